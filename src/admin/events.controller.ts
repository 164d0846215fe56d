import { Controller, Headers, MessageEvent, Query, Sse } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
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
      '`event: presence` with `{clientId, from, to, reason, at, nodeId}` for every status change; `event: command` with `{id, clientId, name, from, to, at, batchId?, nodeId}` for every command status change; a `: ping` comment every 15 s. Every event has an `id`; a listener that reconnects with `Last-Event-ID` first gets the events it missed (of the last SSE_REPLAY_EVENTS), or `event: reset` when they are no longer held (resync from GET /clients). A listener that stops reading is disconnected.',
  })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'The `id` of the last event received: resume after it' })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'An endless Server-Sent Events stream', content: { 'text/event-stream': { schema: { type: 'string' } } } })
  stream(@Query() query: EventsQueryDto, @Headers('last-event-id') lastEventId?: string): Observable<MessageEvent> {
    // An empty header is what EventSource sends before it has seen an id: a fresh start.
    return this.events.stream(query.clientId, lastEventId ? lastEventId.slice(0, 64) : undefined);
  }
}
