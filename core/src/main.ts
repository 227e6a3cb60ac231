#!/usr/bin/env node
import { boot } from './boot.js';
import { ConfigError } from './services/config.js';

try {
  const app = await boot();
  let signals = 0;
  const onSignal = (signal: string) => {
    signals++;
    if (signals > 1) {
      app.log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    app.log.info({ signal }, 'signal received');
    app.stop().then(
      () => process.exit(0),
      (err) => {
        app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  // A plugin's stray rejection is logged, never fatal: one instance's failure must not stop the others.
  process.on('unhandledRejection', (reason) => app.log.error({ err: reason }, 'unhandled promise rejection (kept running)'));
  process.on('uncaughtException', (err) => app.log.error({ err }, 'uncaught exception (kept running)'));
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`Configuration error: ${err.message}`);
    process.exit(78);
  }
  console.error('PlugChat could not start:', err);
  process.exit(1);
}
