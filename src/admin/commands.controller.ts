import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { BroadcastResult, CommandService } from '../commands/command.service';
import type { CommandRecord } from '../commands/command.types';
import type { ClientFilter, Page } from '../presence/presence.types';
import { AdminApi } from './admin-route.decorator';
import { BroadcastDto, BroadcastResultDto, CommandPageDto, CommandRecordDto, ErrorResponseDto, ListCommandsQueryDto } from './dto';

@ApiTags('commands')
@AdminApi()
@Controller('commands')
export class CommandsController {
  constructor(private readonly commands: CommandService) {}

  @Post('broadcast')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    operationId: 'broadcastCommand',
    summary: 'Send a command to every matching client',
    description: 'One command per client matching `filter` (all known clients without one), under one batchId. Clients in close are skipped unless queue: true.',
  })
  @ApiAcceptedResponse({ type: BroadcastResultDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto })
  broadcast(@Body() body: BroadcastDto): Promise<BroadcastResult> {
    return this.commands.broadcast((body.filter ?? {}) as ClientFilter, body.name, body.data, { ttlMs: body.ttlMs, queue: body.queue });
  }

  @Get()
  @ApiOperation({ operationId: 'listCommands', summary: 'List commands', description: 'By batchId (of a broadcast), clientId and/or status; oldest first, paged.' })
  @ApiOkResponse({ type: CommandPageDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto })
  list(@Query() query: ListCommandsQueryDto): Promise<Page<CommandRecord>> {
    const { limit, cursor, ...filter } = query;
    return this.commands.list(filter, { limit, cursor });
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getCommand', summary: 'One command and its outcome' })
  @ApiOkResponse({ type: CommandRecordDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto })
  get(@Param('id') id: string): Promise<CommandRecord> {
    return this.commands.require(id);
  }
}
