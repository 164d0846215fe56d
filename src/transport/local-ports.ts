import { Injectable } from '@nestjs/common';
import type { CmdFrame, CommandDelivery, SessionControl } from '../common/ports';
import { cmdJson } from '../protocol/cmd-frame';
import { LongLinkServer } from './long-link.server';

/** SessionControl for the sockets of this node: `KICK {reason}` and close. */
@Injectable()
export class LocalSessionControl implements SessionControl {
  constructor(private readonly server: LongLinkServer) {}

  async kick(clientId: string, reason: string): Promise<boolean> {
    const conn = this.server.sessions.get(clientId);
    if (!conn) return false;
    this.server.replies.kick(conn, reason);
    return true;
  }
}

/** CommandDelivery to the sockets of this node, each CMD in the framing and type key its session speaks. */
@Injectable()
export class LocalCommandDelivery implements CommandDelivery {
  constructor(private readonly server: LongLinkServer) {}

  isConnected(clientId: string): boolean {
    return this.server.sessions.live(clientId) !== undefined;
  }

  deliver(clientId: string, frames: readonly CmdFrame[]): boolean {
    const conn = this.server.sessions.live(clientId);
    if (!conn) return false;
    for (const frame of frames) conn.sendJson(cmdJson(conn.typeKey, frame.id, frame.body));
    return true;
  }
}
