export interface AttendanceView {
  id: string;
  number: number;
  instanceId: string;
  status: 'pending' | 'open' | 'snoozed' | 'resolved';
  priority: string;
  queueId: string | null;
  assigneeId: string | null;
  menuPending: boolean;
  contact: { id: string; phone: string; name: string; avatarUrl: string | null; blocked: boolean } | null;
  labels: string[];
  unread: number;
  lastPreview: string | null;
  lastMessageAt: string;
  createdAt: string;
  version: number;
  optedOut?: boolean;
}

export interface TimelineItem {
  id: string;
  seq: string;
  kind: 'message' | 'note' | 'activity';
  createdAt: string;
  authorId: string | null;
  direction?: 'in' | 'out';
  waId?: string;
  type?: string;
  content?: Record<string, any> | null;
  status?: string | null;
  waiting?: boolean;
  hasMedia?: boolean;
  deleted?: boolean;
  automatic?: string | null;
  fromPhone?: boolean;
  text?: string;
  mentions?: string[];
  activity?: Record<string, any> & { type: string };
}

export interface AgentView {
  id: string;
  name: string;
  role: string;
  presence: 'online' | 'away' | 'offline';
  capacity: number;
  open: number;
  queueIds: string[];
}
export interface QueueView {
  id: string;
  name: string;
  color: string;
  greeting: string | null;
  assignment: 'manual' | 'round_robin';
  businessHours: { timeZone?: string; schedule: { day: number; open: string; close: string }[] } | null;
  outOfHoursMessage: string | null;
  memberIds: string[];
}
export interface LabelView {
  id: string;
  name: string;
  color: string;
}
export interface QuickReplyView {
  id: string;
  shortcut: string;
  text: string;
  personal: boolean;
}
