// A fleet of bare line-framed clients in a child process (the gateway's
// process would run out of file descriptors holding both ends of 10,000
// sockets). Driven by IPC: {login: [from, to), prefix} and {drop: n}.
'use strict';
const net = require('node:net');

const port = Number(process.argv[2]);
const sockets = [];

function login(id) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' }, () => {
      socket.write(`${JSON.stringify({ type: 'LOGIN', clientId: id, meta: { fleet: 'load' } })}\n`);
    });
    socket.once('data', () => resolve(socket));
    socket.on('data', () => undefined);
    socket.on('error', reject);
  });
}

process.on('message', async (msg) => {
  if (msg.login) {
    const [from, to] = msg.login;
    for (let i = from; i < to; i += 250) {
      const batch = [];
      for (let j = i; j < Math.min(to, i + 250); j++) batch.push(login(`${msg.prefix}-${String(j).padStart(5, '0')}`));
      sockets.push(...(await Promise.all(batch)));
    }
    process.send({ done: 'login', count: sockets.length });
  } else if (msg.drop) {
    for (const s of sockets.splice(0, msg.drop)) s.destroy();
    process.send({ done: 'drop', count: sockets.length });
  } else if (msg.exit) {
    for (const s of sockets) s.destroy();
    process.exit(0);
  }
});
