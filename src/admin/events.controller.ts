import { Controller, MessageEvent, Query, Sse } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Observable } from 'rxjs';
import { AdminEventsService } from './admin-events.service';
import { AdminApi } from './admin-route.decorator';
import { SSE_MAX_PENDING_CHARS } from './admin.options';
import { EventsQueryDto } from './dto';

@ApiTags('events')
@AdminApi()
@Controller('events')
export class EventsController {
  constructor(private readonly events: AdminEventsService) {}

  @Sse('', { maxPendingDataLength: SSE_MAX_PENDING_CHARS })
  @ApiOperation({
    operationId: 'streamEvents',
    summary: 'Live presence and command events (Server-Sent Events)',
    description:
      '`event: presence` with `{clientId, from, to, reason, at, nodeId}` for every status change; `event: command` with `{id, clientId, name, from, to, at, batchId?, nodeId}` for every command status change; a `: ping` comment every 15 s. A listener that stops reading is disconnected.',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'An endless Server-Sent Events stream', content: { 'text/event-stream': { schema: { type: 'string' } } } })
  stream(@Query() query: EventsQueryDto): Observable<MessageEvent> {
    return this.events.stream(query.clientId);
  }
}
