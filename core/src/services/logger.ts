import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type Logger } from 'pino';

export type { Logger };

/** Per-request context so every log line written while serving a request carries its id. */
export const requestContext = new AsyncLocalStorage<{ requestId: string }>();

/** Field names whose values never reach a log line. */
const REDACT = [
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'apiKey',
  '*.apiKey',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["client-token"]',
];

/**
 * A logger for the access log's one line per request, writing to the same stream as `log`: its
 * fields (method, path, status, time, request id) hold no secrets, so it skips the redaction and
 * the context lookup every other line pays for, which on a busy route cost a tenth of a request.
 */
export function accessLogger(log: Logger): Logger {
  const stream = (log as unknown as Record<symbol, pino.DestinationStream>)[pino.symbols.streamSym];
  return pino({ level: log.level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, stream);
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '[redacted]' },
      mixin() {
        const store = requestContext.getStore();
        return store ? { reqId: store.requestId } : {};
      },
    },
    destination,
  );
}
