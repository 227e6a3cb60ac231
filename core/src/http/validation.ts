import type { ZodError, ZodType } from 'zod';
import { badRequest, type FieldIssue } from '../api/errors.js';

export function zodIssues(error: ZodError, prefix?: string): FieldIssue[] {
  return error.issues.map((i) => {
    const path = [prefix, ...i.path.map(String)].filter((p) => p !== undefined && p !== '').join('.');
    const message = i.code === 'unrecognized_keys' ? `unknown field(s): ${i.keys.join(', ')}` : i.message;
    return { path: path || '(root)', message, code: i.code };
  });
}

/** Parses one part of a request; a failure becomes a 400 naming each field at fault. */
export function parseOrThrow<T>(schema: ZodType<T> | undefined, value: unknown, where: 'body' | 'query' | 'params'): T {
  if (!schema) return value as T;
  const res = schema.safeParse(value);
  if (res.success) return res.data;
  const issues = zodIssues(res.error, where);
  throw badRequest(`Invalid request ${where}: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, issues);
}
