import { badRequest } from '@plugchat/core';

/** The variables a quick reply may use, with what each is filled from. */
export const TEMPLATE_VARIABLES = ['contact.name', 'contact.firstName', 'contact.phone', 'agent.name', 'agent.firstName', 'attendance.number', 'queue.name'] as const;
export type TemplateValues = Partial<Record<(typeof TEMPLATE_VARIABLES)[number], string>>;

const VAR = /\{\{\s*([\w.]+)\s*\}\}/g;

/** Refuses text naming a variable that does not exist, saying which and where. */
export function checkTemplate(text: string, field: string): void {
  const unknown = [...text.matchAll(VAR)].map((m) => m[1]!).filter((v) => !(TEMPLATE_VARIABLES as readonly string[]).includes(v));
  if (unknown.length) {
    throw badRequest(`Unknown variable ${unknown.map((v) => `{{${v}}}`).join(', ')}. Use one of: ${TEMPLATE_VARIABLES.map((v) => `{{${v}}}`).join(', ')}.`, [
      { path: field, message: `unknown variable ${unknown[0]}`, code: 'unknown_variable' },
    ], 'unknown_variable');
  }
}

/** Fills the variables; a known variable without a value becomes empty text. */
export function fillTemplate(text: string, values: TemplateValues): string {
  return text.replace(VAR, (_, name: string) => values[name as keyof TemplateValues] ?? '');
}

export const firstName = (name: string | null | undefined) => (name ?? '').trim().split(/\s+/)[0] ?? '';
