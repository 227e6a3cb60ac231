import type { Context } from 'koa';
import getRawBody from 'raw-body';
import { HttpError } from '../api/errors.js';

/**
 * Reads a JSON body: 415 when it is not JSON, 413 over the limit, 400 with the
 * position when it does not parse. Returns undefined when there is no body.
 */
export async function readJsonBody(ctx: Context, limit: string): Promise<unknown> {
  const length = ctx.request.length;
  const hasBody = (length !== undefined && length > 0) || ctx.get('transfer-encoding') !== '';
  if (!hasBody) return undefined;
  if (!ctx.is('application/json', 'application/*+json')) {
    throw new HttpError(415, 'unsupported_media_type', `Send the body as application/json (got ${ctx.get('content-type') || 'no Content-Type'}).`);
  }
  const text = await getRawBody(ctx.req, { limit, length, encoding: 'utf8' });
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, 'malformed_json', `The body is not valid JSON: ${(err as Error).message}`);
  }
}
