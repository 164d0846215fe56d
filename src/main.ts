#!/usr/bin/env node
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { config as loadDotenv } from 'dotenv';
import { ConfigValidationError, parseConfig } from './config';
import { StoreStartupError } from './store/store.errors';

async function main(): Promise<void> {
  // .env is optional; real environment variables win over it.
  loadDotenv({ quiet: true });
  let config;
  try {
    config = parseConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      console.error(`longlink: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  // CLUSTER_WORKERS=N: this process only forks N gateway workers (each a node) sharing the ports.
  if (config.clusterWorkers !== undefined) {
    const { isClusterPrimary, runPrimary } = require('./cluster/workers') as typeof import('./cluster/workers');
    if (isClusterPrimary(config.clusterWorkers)) return runPrimary(config.clusterWorkers, process.env);
  }
  // Loaded only once the configuration is valid, so a bad value fails fast
  // (Nest and everything behind it take a couple of seconds to load).
  const { startGateway, installShutdownSignals } = require('./bootstrap') as typeof import('./bootstrap');
  const gateway = await startGateway(config);
  // Not app.enableShutdownHooks(): the drain must come before Nest's close, and the exit must be bounded.
  installShutdownSignals(gateway, config);
  const logger = new Logger('longlink');
  if (config.auth.mode === 'none') {
    logger.warn('AUTH_MODE=none: any client may log in under any clientId (set AUTH_MODE=token for production)');
  }
  logger.log(`admin API on http://${config.http.host}:${gateway.httpPort} (node ${config.nodeId})`);
}

main().catch((error: unknown) => {
  if (error instanceof StoreStartupError) {
    // Names DATA_DIR and the file; the stack would add nothing.
    console.error(`longlink: ${error.message}`);
    process.exit(1);
  }
  console.error('longlink: failed to start:', error);
  process.exit(1);
});
