import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { TestGateway } from '../support/gateway';
import { RawClient } from '../support/raw-client';

/** Debian's chromium (Playwright's own browser download is not available here; .ci/run installs the package). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Compiles the page into dist/dashboard/ as `npm run build` does, without the
 * type check (`npm run typecheck` has it): the test serves what it just built.
 */
export async function buildDashboard(): Promise<void> {
  await promisify(execFile)(process.execPath, [join(__dirname, '..', '..', 'scripts', 'build-dashboard.js'), '--transpile-only']);
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile in a temp dir (removed on close). */
export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'longlink-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1360, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Console errors and uncaught exceptions of a page, as text. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

/**
 * A device on a real socket: logged in, sending HEART (with reported state)
 * every `everyMs` until stop() (then it goes silent, socket still open).
 */
export class Device {
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    readonly clientId: string,
    readonly raw: RawClient,
  ) {}

  static async start(gw: TestGateway, clientId: string, options: { meta?: Record<string, unknown>; reported?: Record<string, unknown>; everyMs?: number } = {}): Promise<Device> {
    const raw = await RawClient.connect(gw.tcpPort);
    const reply = await raw.login(clientId, options.meta ? { meta: options.meta } : {});
    if (reply.ok !== true) throw new Error(`LOGIN of ${clientId} refused: ${JSON.stringify(reply)}`);
    const device = new Device(clientId, raw);
    const heart = { type: 'HEART', ...options.reported };
    raw.send(heart);
    device.timer = setInterval(() => raw.send(heart), options.everyMs ?? 100);
    raw.socket.on('close', () => device.stop());
    return device;
  }

  /** Stops the heartbeats: the gateway will see silence. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Drops the socket without BYE. */
  drop(): void {
    this.stop();
    this.raw.close();
  }

  /** BYE: status close (logout). */
  async bye(): Promise<void> {
    this.stop();
    this.raw.send({ type: 'BYE' });
    await this.raw.waitClosed();
  }
}
