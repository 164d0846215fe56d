import { Module } from '@nestjs/common';
import { MemoryPresenceStore } from './memory-presence.store';
import { PRESENCE_STORE } from './presence.store';
import { PresenceService } from './presence.service';

/**
 * Client records and their status. Needs the transport, the config and the
 * clock, which LongLinkModule (global) provides.
 */
@Module({
  providers: [{ provide: PRESENCE_STORE, useClass: MemoryPresenceStore }, PresenceService],
  exports: [PRESENCE_STORE, PresenceService],
})
export class PresenceModule {}
