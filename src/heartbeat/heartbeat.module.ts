import { Module } from '@nestjs/common';
import { HeartbeatService } from './heartbeat.service';

/**
 * The liveness sweep and server probes. Needs the transport, the config and
 * the clock, which LongLinkModule (global) provides, and
 * ScheduleModule.forRoot() in the app. Presence listens to its windows.
 */
@Module({
  providers: [HeartbeatService],
  exports: [HeartbeatService],
})
export class HeartbeatModule {}
