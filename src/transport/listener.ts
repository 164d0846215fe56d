import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Logger } from '@nestjs/common';
import type { LongLinkConfig } from '../config';
import type { AdmissionGate } from './admission-gate';

/**
 * The listener of TCP_HOST:TCP_PORT: TLS when both TLS_CERT_FILE and
 * TLS_KEY_FILE are set, plain TCP otherwise. Throws when a certificate file
 * cannot be read. Not listening yet: the server strategy calls listen().
 */
export function createListener(config: LongLinkConfig, onSocket: (socket: net.Socket) => void, admission: AdmissionGate, logger: Logger): net.Server {
  const { tlsCertFile, tlsKeyFile } = config.tcp;
  if (!tlsCertFile || !tlsKeyFile) return net.createServer(onSocket);
  const server = tls.createServer(
    // A handshake counts against the login deadline (Node's default would allow 120 s).
    { cert: readFileSync(tlsCertFile), key: readFileSync(tlsKeyFile), handshakeTimeout: config.loginTimeoutMs },
    onSocket,
  );
  // A socket mid-handshake is no Connection yet: tracked so shutdown can end it.
  server.on('connection', (socket: net.Socket) => admission.trackLoose(socket));
  // A failed handshake must not reach 'error' on the server.
  server.on('tlsClientError', (error) => logger.debug(`TLS handshake failed: ${error.message}`));
  return server;
}
