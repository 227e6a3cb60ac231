export interface Named {
  id: string;
  name: string;
}
export interface Label extends Named {
  color: string | null;
}
export interface Member {
  id: string;
  fullName: string;
  username: string;
}
export interface Defaults {
  boardId: string | null;
  listId: string | null;
  labelIds: string[];
  memberIds: string[];
}
export interface ConnectionView {
  connected: boolean;
  status?: 'connected' | 'revoked';
  member?: { id: string; fullName: string; username: string };
  webhookSecretSet?: boolean;
  defaults?: Defaults;
  queueDefaults?: Record<string, Defaults>;
  automation?: { onResolve: 'none' | 'comment' | 'move'; listId: string | null };
}
export interface CardView {
  id: string;
  name: string;
  url: string | null;
  listName: string | null;
  due: string | null;
  labels: Label[];
  closed: boolean;
  status: 'pending' | 'created' | 'failed';
  error: string | null;
  attempts: number;
}
