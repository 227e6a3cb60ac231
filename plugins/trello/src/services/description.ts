import type { TranscriptLine } from '@plugchat/helpdesk';

/** Trello's limit on a card's description. */
export const DESC_LIMIT = 16_384;
const LINE_LIMIT = 500;
const HEAD = 10;

export interface DescriptionInput {
  contactName: string;
  phone: string;
  number: number;
  queueName: string | null;
  agentName: string | null;
  link: string;
  lines: TranscriptLine[];
  timeZone: string;
}

const fmt = (iso: string, zone: string) =>
  new Intl.DateTimeFormat('pt-BR', { timeZone: zone, day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit' }).format(new Date(iso));

const who = (l: TranscriptLine) => (l.direction === 'in' ? 'Cliente' : l.author === 'automatic' ? 'Automática' : l.author === 'phone' ? 'Celular' : (l.author ?? 'Atendente'));

/** One transcript line in Markdown (long texts cut, Markdown markers in names kept literal). */
function line(l: TranscriptLine, zone: string): string {
  const text = (l.text || `[${l.type}]`).replace(/\s+/g, ' ').trim();
  const cut = text.length > LINE_LIMIT ? `${text.slice(0, LINE_LIMIT - 1)}…` : text;
  return `\`${fmt(l.at, zone)}\` **${who(l).replace(/[*_`]/g, '')}:** ${cut}`;
}

/**
 * The card's description: a contact block, a link back to the attendance and the transcript. Over
 * Trello's 16,384 characters, the first messages (how it started) and as many of the newest as fit
 * are kept, with a line saying how many were left out between them.
 */
export function cardDescription(d: DescriptionInput): string {
  const header = [
    `**Contato:** ${d.contactName} (+${d.phone})`,
    `**Atendimento:** #${d.number}${d.queueName ? ` · ${d.queueName}` : ''}${d.agentName ? ` · ${d.agentName}` : ''}`,
    `[Abrir o atendimento no PlugChat](${d.link})`,
    '',
    '---',
    '**Conversa**',
    '',
  ].join('\n');
  const all = d.lines.map((l) => line(l, d.timeZone));
  const full = header + all.join('\n');
  if (full.length <= DESC_LIMIT) return full;
  const head = all.slice(0, HEAD);
  const omitted = (n: number) => `\n_… ${n.toLocaleString('pt-BR')} mensagens omitidas …_\n`;
  // Room for the newest lines: what the header, the head and the (longest) omission line leave.
  let room = DESC_LIMIT - header.length - head.join('\n').length - omitted(all.length).length - 1;
  const tail: string[] = [];
  for (let i = all.length - 1; i >= head.length; i--) {
    const cost = all[i]!.length + 1;
    if (cost > room) break;
    room -= cost;
    tail.unshift(all[i]!);
  }
  return header + head.join('\n') + omitted(all.length - head.length - tail.length) + tail.join('\n');
}
