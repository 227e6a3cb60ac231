import { ApiError } from './api';
import { i18n } from './i18n';

interface Issue {
  path: string;
  message: string;
  code?: string;
}

/**
 * What to show a person for a failed call: validation problems of the fields people fill, and the
 * errors they meet most, in the interface's language; anything else as the server said it (its
 * messages already say what to do next). `byCode` names the message for a code on one screen
 * (a 401 on the sign-in page is a wrong password; elsewhere an expired session).
 */
export function errorText(err: unknown, byCode: Record<string, string> = {}): string {
  const t = i18n.global.t as (key: string, named?: Record<string, unknown>) => string;
  const te = i18n.global.te as (key: string) => boolean;
  if (!(err instanceof ApiError)) return String((err as Error)?.message ?? err);
  if (byCode[err.code]) return t(byCode[err.code]!);
  if (te(`apiErrors.${err.code}`)) return t(`apiErrors.${err.code}`);
  const issues = (err.details as { issues?: Issue[] } | undefined)?.issues;
  if (err.code !== 'validation_failed' || !issues?.length) return err.message;
  const lines = issues.map((i) => {
    const field = i.path.split('.').pop() ?? '';
    if (!te(`fields.${field}`)) return `${i.path} ${i.message}`;
    const rule = field === 'password' && i.code === 'too_small' ? 'passwordTooShort' : i.code && te(`rules.${i.code}`) ? i.code : 'invalid';
    return t(`rules.${rule}`, { field: t(`fields.${field}`) });
  });
  return [...new Set(lines)].join(' ');
}
