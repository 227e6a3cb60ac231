import type { SurveyKind } from './entities.js';

/** The scale of each kind of survey. */
export const SCALE: Record<SurveyKind, { min: number; max: number }> = { csat: { min: 1, max: 5 }, nps: { min: 0, max: 10 } };

// Words customers answer a CSAT with (accents optional). Only on the 1-5 scale: a word says
// nothing precise about a 0-10 recommendation.
const WORDS: Record<string, number> = {
  excelente: 5,
  otimo: 5,
  'muito bom': 5,
  'muito boa': 5,
  bom: 4,
  boa: 4,
  regular: 3,
  razoavel: 3,
  'mais ou menos': 3,
  ruim: 2,
  pessimo: 1,
  pessima: 1,
  horrivel: 1,
  'muito ruim': 1,
};

const STARS = /^[\u2B50\u{1F31F}\u2605\s]+$/u;
const STAR = /[\u2B50\u{1F31F}\u2605]/gu;
const NUMBER = /^(?:nota|avaliacao|avalio)?\s*[:=-]?\s*(\d{1,2})\s*(?:\/\s*(?:5|10)|estrelas?|pontos?)?$/;

/**
 * Reads a reply to a survey as a rating, or answers null when it is not one (then it is a normal
 * message for the helpdesk). A rating is a lone number in range (` 4 `, `nota 5`, `5/5`), a number
 * emoji (5️⃣, 🔟), stars (⭐⭐⭐), or, for CSAT, one of a few words (ótimo, bom, ruim, péssimo).
 */
export function parseRating(text: string | undefined, kind: SurveyKind): number | null {
  if (!text) return null;
  const { min, max } = SCALE[kind];
  const inRange = (n: number) => (Number.isInteger(n) && n >= min && n <= max ? n : null);
  let t = text.normalize('NFC').trim();
  if (!t || t.length > 40) return null;
  if (STARS.test(t)) return inRange((t.match(STAR) ?? []).length);
  // Keycap emoji: a digit, an optional variation selector, the combining keycap.
  t = t.replace(/🔟/gu, '10').replace(/(\d)\uFE0F?\u20E3/gu, '$1');
  const plain = t
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[.!]+$/, '')
    .replace(/\s+/g, ' ')
    .trim();
  const number = NUMBER.exec(plain);
  if (number) return inRange(Number(number[1]));
  if (kind === 'csat' && plain in WORDS) return WORDS[plain]!;
  return null;
}

const CSAT_OPTIONS = ['5 - Ótimo', '4 - Bom', '3 - Regular', '2 - Ruim', '1 - Péssimo'];

/** The options of a survey sent as a poll: best first, each starting with its score. */
export function pollOptions(kind: SurveyKind): string[] {
  return kind === 'csat' ? CSAT_OPTIONS : Array.from({ length: 11 }, (_, i) => String(10 - i));
}

/** The score a poll option stands for (its leading number), or null. */
export function ratingOfOption(option: string | undefined, kind: SurveyKind): number | null {
  const n = /^\s*(\d{1,2})\b/.exec(option ?? '');
  if (!n) return null;
  const v = Number(n[1]);
  return v >= SCALE[kind].min && v <= SCALE[kind].max ? v : null;
}
