import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { LongLinkContext } from 'longlink';

/** The app's own uplink handlers: a device's `client.send('greet', …)` lands here. */
@Controller()
export class DeviceHandlers {
  @MessagePattern('greet')
  greet(@Payload() data: { name?: string }, @Ctx() ctx: LongLinkContext): { greeting: string; clientId: string; sessionId: string } {
    return { greeting: `hello ${data?.name ?? 'device'}`, clientId: ctx.clientId, sessionId: ctx.sessionId };
  }
}
