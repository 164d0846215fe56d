import { Body, Controller, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { CommandRecord, CommandService, PresenceService } from 'longlink';

/** The app's own HTTP route: "reboot this device", through the gateway's services. */
@Controller('devices')
export class DevicesController {
  constructor(
    private readonly presence: PresenceService,
    private readonly commands: CommandService,
  ) {}

  @Post(':id/reboot')
  @HttpCode(200)
  async reboot(@Param('id') id: string, @Body() body: { delayMs?: number }): Promise<CommandRecord> {
    const record = await this.presence.get(id);
    if (!record?.connected) throw new NotFoundException(`device ${id} is not connected`);
    const sent = await this.commands.send(id, 'reboot', { delayMs: body?.delayMs ?? 0 });
    // The device answers with an ACK; wait a little for it.
    return (await this.commands.waitForOutcome(sent.id, 5000)) ?? sent;
  }
}
