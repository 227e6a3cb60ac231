// What the reports API answers, as the reports page and its drill-down read it.
export interface Stat { count: number; avg: number | null; median: number | null; p90: number | null; business: { avg: number | null; median: number | null; p90: number | null } }
export interface Figures {
  created: number; reopened: number; resolved: number; messagesIn: number; messagesOut: number; assigned: number; transfersIn: number; transfersOut: number;
  firstResponse: Stat; replyTime: Stat; resolution: Stat; assignmentWait: Stat;
}
export type Row = Figures & { name: string | null; agentId?: string | null; queueId?: string | null; labelId?: string | null };
export interface Point { start: string; created: number; resolved: number; messagesIn: number; messagesOut: number; firstResponseAvg: number | null; resolutionAvg: number | null }
export interface Client { rank: number; contactId: string; name: string; phone: string; messages: number; attendances: number; lastMessageAt: string }
export interface Live { open: number; pending: number; snoozed: number; unassigned: number; unattended: number; agentsOnline: number }
export interface Contributed { id: string; title: string; figures: { key: string; label: string; value: number | null; unit: string }[]; error?: string }
export interface DrillItem { attendanceId: string; number: number; status: string; contactName: string; phone: string; at: string; seconds: number; agentId: string | null }

/** The figures that are times (seconds), which the drill-down lists with each attendance's time. */
export const TIME_KEYS = ['firstResponse', 'replyTime', 'resolution', 'assignmentWait'] as const;
