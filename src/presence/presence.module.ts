import { Module } from '@nestjs/common';
import { HeartbeatModule } from '../heartbeat/heartbeat.module';
import { PresenceService } from './presence.service';

/**
 * Client records and their status. Needs PRESENCE_STORE, SESSION_CONTROL,
 * TRANSPORT_SESSIONS, the config and the clock, which LongLinkModule
 * (global) provides; listens to the heartbeat's windows.
 */
@Module({
  imports: [HeartbeatModule],
  providers: [PresenceService],
  exports: [PresenceService, HeartbeatModule],
})
export class PresenceModule {}
