import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether the `openssl` binary is here; TLS tests skip loudly without it. */
export const haveOpenssl = spawnSync('openssl', ['version']).status === 0;

export interface TestCertificate {
  certFile: string;
  keyFile: string;
  /** The certificate's PEM, to trust as a CA in the client. */
  cert: Buffer;
  remove(): void;
}

/** A self-signed certificate for CN/SAN `localhost`, made for this run in a temporary folder. */
export function makeSelfSignedCertificate(prefix = 'longlink-tls-'): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const keyFile = join(dir, 'k.pem');
  const certFile = join(dir, 'c.pem');
  const made = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-days', '1', '-keyout', keyFile, '-out', certFile],
    { encoding: 'utf8' },
  );
  if (made.status !== 0) throw new Error(`openssl failed (${made.status}): ${made.stderr}`);
  return { certFile, keyFile, cert: readFileSync(certFile), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
