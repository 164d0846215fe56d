import { GatewayOptions, startGateway, RunningGateway } from '../../src/bootstrap';
import { configFrom, LongLinkConfig } from '../../src/config';

export interface TestGateway extends RunningGateway {
  config: LongLinkConfig;
  httpUrl: string;
  close(): Promise<void>;
}

/**
 * The real gateway in this process, on 127.0.0.1 with port 0 for both TCP and
 * HTTP. `env` overrides configuration keys exactly as the environment would.
 */
export async function startTestGateway(
  env: Record<string, string | number | undefined> = {},
  options: GatewayOptions = {},
): Promise<TestGateway> {
  const config = configFrom({
    TCP_HOST: '127.0.0.1',
    TCP_PORT: 0,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: 0,
    SHUTDOWN_GRACE_MS: 500,
    // Every suite connects from 127.0.0.1, some with 1,000 clients at once: the per-IP and per-host
    // admission limits are off here, and the suites that test them (test/e2e/hardening) turn them on.
    CONNECT_RATE_PER_IP: 0,
    FLAP_HOST_MAX_LOGINS: 0,
    // Tests run on the memory stores unless they say otherwise.
    STORE: 'memory',
    ...env,
  });
  const running = await startGateway(config, { logger: process.env.TEST_LOGS ? undefined : false, ...options });
  let closed = false;
  return {
    ...running,
    config,
    httpUrl: `http://127.0.0.1:${running.httpPort}`,
    async close() {
      if (closed) return;
      closed = true;
      await running.app.close();
    },
  };
}
