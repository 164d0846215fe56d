import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * The yardstick: the least a Node server of docs/PROTOCOL.md can do. Plain
 * node:net, length-prefixed framing, JSON.parse of every frame, LOGIN and
 * HEART answered like the gateway answers them, the replies to one read
 * sent with one write, ACKs counted. `POST /broadcast` sends a CMD to every
 * logged-in socket (scenario S4). No presence, no commands store, no limits.
 */
export interface Baseline {
  tcp: Server;
  http: HttpServer;
  tcpPort: number;
  httpPort: number;
  close(): Promise<void>;
}

function frame(json: string): Buffer {
  const n = Buffer.byteLength(json);
  const buf = Buffer.allocUnsafe(4 + n);
  buf.writeUInt32BE(n, 0);
  buf.write(json, 4);
  return buf;
}

export async function startBaseline(tcpPort = 0, httpPort = 0, host = '127.0.0.1'): Promise<Baseline> {
  const sockets = new Set<Socket>();
  let sessions = 0;
  let acked = 0;
  let commands = 0;
  const tcp = createServer((socket) => {
    socket.setNoDelay(true);
    let rest: Buffer | null = null;
    socket.on('data', (chunk: Buffer) => {
      const buf: Buffer = rest ? Buffer.concat([rest, chunk]) : chunk;
      const out: Buffer[] = [];
      // One clock read and one encoded HEART reply per read, shared by its heartbeats.
      let heartReply: Buffer | undefined;
      let pos = 0;
      while (buf.length - pos >= 4) {
        const n = buf.readUInt32BE(pos);
        if (buf.length - pos - 4 < n) break;
        const msg = n === 0 ? { type: 'HEART' } : JSON.parse(buf.toString('utf8', pos + 4, pos + 4 + n));
        pos += 4 + n;
        if (msg.type === 'HEART' && msg.ok === undefined) {
          out.push((heartReply ??= frame(`{"type":"HEART","ok":true,"serverTime":${Date.now()}}`)));
        } else if (msg.type === 'LOGIN') {
          sockets.add(socket);
          const reply = { type: 'LOGIN', ok: true, clientId: msg.clientId, sessionId: `s${++sessions}`, heartbeatMs: 10000, serverTime: Date.now() };
          out.push(frame(JSON.stringify(reply)));
        } else if (msg.type === 'ACK') {
          acked++;
        }
      }
      rest = pos < buf.length ? buf.subarray(pos) : null;
      if (out.length > 0) socket.write(out.length === 1 ? out[0] : Buffer.concat(out));
    });
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  });
  const http = createHttpServer((req, res) => {
    if (req.method === 'POST' && req.url === '/broadcast') {
      const now = Date.now();
      for (const socket of sockets) {
        socket.write(frame(JSON.stringify({ type: 'CMD', id: `cmd-${++commands}`, name: 'bench', data: {}, expiresAt: now + 86_400_000 })));
      }
      res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ count: sockets.size }));
    } else if (req.method === 'GET' && req.url === '/acks') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ acked }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => tcp.listen(tcpPort, host, resolve));
  await new Promise<void>((resolve) => http.listen(httpPort, host, resolve));
  return {
    tcp,
    http,
    tcpPort: (tcp.address() as AddressInfo).port,
    httpPort: (http.address() as AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all([new Promise((r) => tcp.close(r)), new Promise((r) => http.close(r))]);
    },
  };
}

// `node baseline-server.js <tcpPort> <httpPort>`: its own process, as the benchmark runs it.
if (require.main === module) {
  startBaseline(Number(process.argv[2] ?? 0), Number(process.argv[3] ?? 0)).then(
    (b) => console.log(`baseline listening tcp ${b.tcpPort} http ${b.httpPort}`),
    (error: unknown) => {
      console.error('baseline failed to start:', error);
      process.exit(1);
    },
  );
}
