import { Body, Controller, Delete, Get, HttpCode, HttpStatus, NotFoundException, Param, Post, Query, Res, BadRequestException } from '@nestjs/common';
import { ApiAcceptedResponse, ApiExtraModels, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CommandService } from '../commands/command.service';
import type { CommandRecord } from '../commands/command.types';
import { PresenceService } from '../presence/presence.service';
import type { ClientFilter, ClientRecord, Page, PresenceStats } from '../presence/presence.types';
import { AdminApi, ClientIdPipe } from './admin-route.decorator';
import {
  BulkKickDto,
  BulkKickResultDto,
  ClientCommandsQueryDto,
  ClientPageDto,
  ClientRecordDto,
  CommandPageDto,
  CommandRecordDto,
  ErrorResponseDto,
  KickResultDto,
  ListClientsQueryDto,
  NodeCountsDto,
  PresenceStatsDto,
  SendCommandDto,
} from './dto';

@ApiTags('clients')
@ApiExtraModels(NodeCountsDto)
@AdminApi()
@Controller('clients')
export class ClientsController {
  constructor(
    private readonly presence: PresenceService,
    private readonly commands: CommandService,
  ) {}

  @Get()
  @ApiOperation({ operationId: 'listClients', summary: 'List clients', description: 'Filtered, ordered by clientId, paged with `limit` and `cursor`.' })
  @ApiOkResponse({ type: ClientPageDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'Bad query parameter' })
  list(@Query() query: ListClientsQueryDto): Promise<Page<ClientRecord>> {
    const { limit, cursor, ...filter } = query;
    return this.presence.list(filter, { limit, cursor });
  }

  @Get('stats')
  @ApiOperation({ operationId: 'getClientStats', summary: 'Counts by status, connected, and per node' })
  @ApiOkResponse({ type: PresenceStatsDto })
  stats(): Promise<PresenceStats> {
    return this.presence.stats();
  }

  @Post('kick')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    operationId: 'kickClients',
    summary: 'Kick many clients',
    description: 'By `clientIds`, or by a non-empty `filter`. Each gets `KICK {reason:"kicked"}` and is closed; status becomes close (kicked).',
  })
  @ApiOkResponse({ type: BulkKickResultDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto })
  async kickMany(@Body() body: BulkKickDto): Promise<BulkKickResultDto> {
    if ((body.clientIds === undefined) === (body.filter === undefined)) {
      throw new BadRequestException('give exactly one of clientIds or filter');
    }
    const result: BulkKickResultDto = { kicked: 0, notFound: [] };
    if (body.clientIds) {
      const named = [...new Set(body.clientIds)];
      const done = await Promise.all(named.map((clientId) => this.presence.kick(clientId)));
      named.forEach((clientId, i) => (done[i] ? result.kicked++ : result.notFound.push(clientId)));
      return result;
    }
    const filter = body.filter as ClientFilter;
    if (Object.values(filter).every((v) => v === undefined)) {
      throw new BadRequestException('filter must have at least one of status, connected, q, clientIds, meta (an empty filter would kick everyone)');
    }
    // Collected first: kicking changes statuses, which would shift a status-filtered page under us.
    // Ids only: copying every matching record just to read its id cost a deep clone each.
    const ids = await this.presence.matchingIds(filter);
    // Concurrently, in chunks: in a cluster, kicks of the same turn travel as one message per owning node.
    for (let i = 0; i < ids.length; i += 1000) {
      const done = await Promise.all(ids.slice(i, i + 1000).map((clientId) => this.presence.kick(clientId)));
      result.kicked += done.filter(Boolean).length;
    }
    return result;
  }

  @Get(':clientId')
  @ApiOperation({ operationId: 'getClient', summary: 'One client, with its recent transitions' })
  @ApiOkResponse({ type: ClientRecordDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto })
  async get(@Param('clientId', ClientIdPipe) clientId: string): Promise<ClientRecord> {
    const record = await this.presence.get(clientId);
    if (!record) throw new NotFoundException(`client '${clientId}' is not known`);
    return record;
  }

  @Delete(':clientId')
  @ApiOperation({ operationId: 'kickClient', summary: 'Kick a client', description: 'Sends `KICK {reason:"kicked"}` and closes the socket; status becomes close (kicked). Idempotent.' })
  @ApiOkResponse({ type: KickResultDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto })
  async kick(@Param('clientId', ClientIdPipe) clientId: string): Promise<KickResultDto> {
    if (!(await this.presence.kick(clientId))) throw new NotFoundException(`client '${clientId}' is not known`);
    return { clientId, kicked: true };
  }

  @Post(':clientId/commands')
  @ApiOperation({
    operationId: 'sendCommand',
    summary: 'Send a command to a client',
    description:
      'Sent at once when the client is connected, else queued until its next LOGIN. With `waitMs`: 200 with the outcome when it was acked, failed or expired in time. Otherwise 202 with the current state; poll GET /commands/{id}.',
  })
  @ApiOkResponse({ type: CommandRecordDto, description: 'Finished within waitMs (acked, failed or expired)' })
  @ApiAcceptedResponse({ type: CommandRecordDto, description: 'Created; not finished (yet)' })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'Bad body (the message names the field)' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'Unknown client (without queue: true)' })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'Client is close (without queue: true)' })
  @ApiResponse({ status: 429, type: ErrorResponseDto, description: 'Client already has MAX_QUEUED_COMMANDS undelivered commands' })
  async send(
    @Param('clientId', ClientIdPipe) clientId: string,
    @Body() body: SendCommandDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CommandRecord> {
    let command = await this.commands.send(clientId, body.name, body.data, { ttlMs: body.ttlMs, queue: body.queue });
    if (body.waitMs) command = (await this.commands.waitForOutcome(command.id, body.waitMs)) ?? command;
    const finished = command.status === 'acked' || command.status === 'failed' || command.status === 'expired';
    res.status(finished ? HttpStatus.OK : HttpStatus.ACCEPTED);
    res.setHeader('Location', `/commands/${command.id}`);
    return command;
  }

  @Get(':clientId/commands')
  @ApiOperation({ operationId: 'listClientCommands', summary: "A client's commands, oldest first" })
  @ApiOkResponse({ type: CommandPageDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such client and no commands for it' })
  async commandsOf(@Param('clientId', ClientIdPipe) clientId: string, @Query() query: ClientCommandsQueryDto): Promise<Page<CommandRecord>> {
    const page = await this.commands.list({ clientId, status: query.status }, { limit: query.limit, cursor: query.cursor });
    // Commands queued for a client never seen yet are listed although presence does not know it.
    if (page.total === 0 && !(await this.presence.get(clientId))) throw new NotFoundException(`client '${clientId}' is not known`);
    return page;
  }
}
