/**
 * Errors every route answers with: `{ error: { code, message, details } }`.
 * Throw these from plugin code; anything else becomes a logged 500.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export interface FieldIssue {
  path: string;
  message: string;
  code?: string;
}

export const badRequest = (message: string, issues: FieldIssue[] = [], code = 'validation_failed') =>
  new HttpError(400, code, message, { issues });
export const unauthorized = (message = 'Sign in or send an API key to use this route.') =>
  new HttpError(401, 'unauthenticated', message);
export const forbidden = (message = 'Your role does not allow this action.') =>
  new HttpError(403, 'forbidden', message);
export const notFound = (what = 'Resource') => new HttpError(404, 'not_found', `${what} not found.`);
export const conflict = (message: string, code = 'conflict') => new HttpError(409, code, message);
export const unprocessable = (message: string, code = 'unprocessable', details?: unknown) =>
  new HttpError(422, code, message, details);
export const tooManyRequests = (retryAfterSeconds: number, message = 'Too many requests, try again later.') =>
  new HttpError(429, 'rate_limited', message, { retryAfterSeconds }, { 'Retry-After': String(retryAfterSeconds) });
