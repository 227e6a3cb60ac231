import type { Definition, SurveyKind } from '../entities.js';

/** The texts and rules an account starts with (pt-BR, the customers' language). */
export const DEFAULT_TEXTS: Record<SurveyKind, { question: string; followUpAtOrBelow: number }> = {
  csat: { question: 'De 1 a 5, como você avalia o atendimento?', followUpAtOrBelow: 3 },
  nps: { question: 'De 0 a 10, qual a chance de você nos recomendar a um amigo ou colega?', followUpAtOrBelow: 6 },
};

export function defaultDefinition(accountId: string, now: Date): Definition {
  return {
    accountId,
    enabled: false,
    kind: 'csat',
    question: DEFAULT_TEXTS.csat.question,
    thanks: 'Obrigado pela sua avaliação!',
    followUp: 'O que podemos melhorar?',
    followUpAtOrBelow: DEFAULT_TEXTS.csat.followUpAtOrBelow,
    windowHours: 24,
    queueIds: [],
    skipLabelIds: [],
    minDaysBetween: 7,
    asPoll: false,
    updatedAt: now,
  };
}
