// The server's own types (type-only imports: nothing of the server reaches the bundle).
import type { Definition as StoredDefinition, SurveyKind } from '../src/entities';
import type { Scores } from '../src/services/figures';

export type Kind = SurveyKind;
export type { Scores };
export type Definition = Omit<StoredDefinition, 'accountId' | 'updatedAt'> & { scale: { min: number; max: number } };

export interface SurveyView {
  id: string;
  attendanceId: string;
  attendanceNumber: number;
  phone: string;
  agentId: string | null;
  agentName: string | null;
  queueId: string | null;
  kind: Kind;
  status: 'sent' | 'awaiting_comment' | 'answered' | 'expired' | 'not_sent';
  reason: string | null;
  rating: number | null;
  comment: string | null;
  resolvedAt: string;
  sentAt: string | null;
  ratedAt: string | null;
}

export interface FiguresView {
  period: { from: string; to: string; timeZone: string };
  csat: Scores;
  nps: Scores;
  notSent: Record<string, number> & { total: number };
  agents: (Scores & { agentId: string | null; name: string | null; kind: Kind })[];
  queues: (Scores & { queueId: string | null; name: string | null; kind: Kind })[];
}
