#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';
import { boot } from './boot.js';
import { ConfigError } from './services/config.js';

// The embedded queue runs PostgreSQL compiled to WebAssembly. By default V8 compiles every function
// of it twice over time, a quick baseline (Liftoff) first and optimized code for the hot ones, and
// keeps both. Optimized code alone leaves the idle process about 40 MB smaller and adds about 1.4 s
// to a start. Read when a module is compiled, so set before the queue opens.
setFlagsFromString('--no-liftoff');

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
