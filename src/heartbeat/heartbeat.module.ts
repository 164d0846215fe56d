import { Module } from '@nestjs/common';
import { PresenceModule } from '../presence/presence.module';
import { HeartbeatService } from './heartbeat.service';

/** The liveness sweep and server probes; feeds PresenceService. Needs ScheduleModule.forRoot() in the app. */
@Module({
  imports: [PresenceModule],
  providers: [HeartbeatService],
  exports: [HeartbeatService],
})
export class HeartbeatModule {}
