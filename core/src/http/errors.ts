import type { Context, Next } from 'koa';
import { HttpError } from '../api/errors.js';
import type { Logger } from '../services/logger.js';

const HTTP_ERROR = 'HttpError';

/** Duck-typed so an HttpError from a plugin's own copy of the core still counts. */
export function isHttpError(err: unknown): err is HttpError {
  return err instanceof HttpError || (!!err && typeof err === 'object' && (err as Error).name === HTTP_ERROR && 'status' in err && 'code' in err);
}

/** Maps library errors that carry an HTTP meaning onto our error shape. */
function translate(err: unknown): HttpError | undefined {
  if (isHttpError(err)) return err;
  const e = err as { status?: number; type?: string; name?: string; message?: string; expected?: number; limit?: number };
  if (e?.type === 'entity.too.large') return new HttpError(413, 'payload_too_large', `The request body is larger than the limit of ${e.limit} bytes.`, { limit: e.limit });
  if (e?.type === 'request.aborted') return new HttpError(400, 'request_aborted', 'The request was aborted before its body arrived.');
  if (e?.type === 'request.size.invalid') return new HttpError(400, 'bad_content_length', 'The request body does not match its Content-Length.');
  if (e?.name === 'NotFoundError') return new HttpError(404, 'not_found', 'Resource not found.');
  if (e?.name === 'UniqueConstraintViolationException') return new HttpError(409, 'conflict', 'This would create a duplicate of something that must be unique.');
  return undefined;
}

export function errorMiddleware(log: Logger, methodsFor: (path: string) => string[] = () => []) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        const allowed = methodsFor(ctx.path);
        if (allowed.length) {
          const err = new HttpError(405, 'method_not_allowed', `${ctx.path} does not answer ${ctx.method}; it answers ${allowed.join(', ')}.`, { allowed });
          err.headers.Allow = allowed.join(', ');
          throw err;
        }
        throw new HttpError(404, 'route_not_found', `No route for ${ctx.method} ${ctx.path}.`);
      }
    } catch (err) {
      const known = translate(err);
      if (known) {
        ctx.status = known.status;
        for (const [k, v] of Object.entries(known.headers)) ctx.set(k, v);
        ctx.body = { error: { code: known.code, message: known.message, ...(known.details !== undefined ? { details: known.details } : {}) } };
        if (known.status >= 500) log.error({ err }, 'request failed');
        return;
      }
      log.error({ err, method: ctx.method, path: ctx.path }, 'unhandled error while serving a request');
      ctx.status = 500;
      ctx.body = {
        error: {
          code: 'internal_error',
          message: `Something went wrong on our side. Try again; if it keeps failing, report request id ${ctx.state.requestId}.`,
        },
      };
    }
  };
}
