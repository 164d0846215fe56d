import { EventEmitter } from 'node:events';
import type { LongLinkClientEvents } from './client-events';

export type Listener<K extends keyof LongLinkClientEvents> = (...args: LongLinkClientEvents[K]) => void;

/** The typed event surface of LongLinkClient, and the one way it fires an event. */
export class ClientEmitter {
  private readonly events = new EventEmitter();

  on<K extends keyof LongLinkClientEvents>(event: K, listener: Listener<K>): this {
    this.events.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof LongLinkClientEvents>(event: K, listener: Listener<K>): this {
    this.events.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof LongLinkClientEvents>(event: K, listener: Listener<K>): this {
    this.events.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Same as off(); what node:events helpers call to detach (events.once/on in plain JS). */
  removeListener<K extends keyof LongLinkClientEvents>(event: K, listener: Listener<K>): this {
    return this.off(event, listener);
  }

  listenerCount(event: keyof LongLinkClientEvents): number {
    return this.events.listenerCount(event);
  }

  protected fire<K extends keyof LongLinkClientEvents>(event: K, ...args: LongLinkClientEvents[K]): void {
    // An unheard 'error' would throw out of a socket callback and kill the process.
    if (event === 'error' && this.events.listenerCount('error') === 0) return;
    try {
      this.events.emit(event, ...args);
    } catch (error) {
      // A throwing listener is the application's bug: let it surface as an
      // uncaught exception, but not from inside the SDK halfway through a
      // frame or a state change, which would leave both inconsistent.
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}
