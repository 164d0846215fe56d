import { EventEmitter } from 'node:events';
import type { Logger } from '@nestjs/common';
import { errorText } from './replies';
import type { LongLinkEvents } from './transport.events';

/**
 * The transport's events. Listeners run synchronously inside socket
 * callbacks: one that throws is logged and must neither crash the process
 * nor keep the other listeners from seeing the event.
 */
export class TransportEventBus {
  private readonly emitter = new EventEmitter();

  constructor(private readonly logger: Logger) {
    this.emitter.setMaxListeners(50);
  }

  on<K extends keyof LongLinkEvents>(event: K, listener: LongLinkEvents[K]): void {
    this.emitter.on(event, listener as (...args: unknown[]) => void);
  }

  off<K extends keyof LongLinkEvents>(event: K, listener: LongLinkEvents[K]): void {
    this.emitter.off(event, listener as (...args: unknown[]) => void);
  }

  /** Nobody listens: the caller may skip building the event. */
  idle(event: keyof LongLinkEvents): boolean {
    return this.emitter.listenerCount(event) === 0;
  }

  emit<K extends keyof LongLinkEvents>(event: K, payload: Parameters<LongLinkEvents[K]>[0]): void {
    for (const listener of this.emitter.listeners(event)) {
      try {
        (listener as (p: unknown) => void)(payload);
      } catch (error) {
        this.logger.error(`'${event}' listener failed: ${errorText(error)}`, error instanceof Error ? error.stack : undefined);
      }
    }
  }
}
