import { BaseRpcContext } from '@nestjs/microservices';
import type { Connection } from './connection';

/** What `@Ctx()` gives a `@MessagePattern` / `@EventPattern` handler of an uplink MSG. */
export class LongLinkContext extends BaseRpcContext<[Connection, string]> {
  constructor(args: [Connection, string]) {
    super(args);
  }
  get connection(): Connection {
    return this.args[0];
  }
  get pattern(): string {
    return this.args[1];
  }
  get clientId(): string {
    return this.args[0].clientId ?? '';
  }
  get sessionId(): string {
    return this.args[0].sessionId ?? '';
  }
  get remoteAddress(): string {
    return this.args[0].remoteAddress;
  }
  get remotePort(): number {
    return this.args[0].remotePort;
  }
}
