import { describe, expect, it } from 'vitest';
import { cardDescription, DESC_LIMIT } from '../src/services/description.js';

const line = (i: number, text = `mensagem ${String(i).padStart(4, '0')} do cliente sobre o pedido`) => ({
  at: new Date(Date.UTC(2026, 10, 20, 12, 0, i % 60)).toISOString(),
  direction: (i % 3 ? 'in' : 'out') as 'in' | 'out',
  author: i % 3 ? null : 'Ana Atende',
  type: 'text',
  text,
});
const input = (n: number) => ({ contactName: 'Carla', phone: '5521999990000', number: 42, queueName: 'Suporte', agentName: 'Ana Atende', link: 'http://plugchat.test/inbox/a1?trelloCard=c1', lines: Array.from({ length: n }, (_, i) => line(i + 1)), timeZone: 'America/Sao_Paulo' });

describe('the card description', () => {
  it('holds the whole conversation when it fits', () => {
    const d = cardDescription(input(20));
    expect(d).toContain('**Contato:** Carla (+5521999990000)');
    expect(d).toContain('**Atendimento:** #42 · Suporte · Ana Atende');
    expect(d).toContain('[Abrir o atendimento no PlugChat](http://plugchat.test/inbox/a1?trelloCard=c1)');
    expect(d).not.toContain('omitidas');
    // Times in the account's zone (12:00:01 UTC is 09:00 in São Paulo).
    expect(d).toContain('`20/11/2026, 09:00` **Cliente:** mensagem 0001 do cliente sobre o pedido');
    expect(d).toContain('**Ana Atende:** mensagem 0003');
  });

  it('keeps the first and as many of the newest messages as Trello takes, and says how many are left out', () => {
    const d = cardDescription(input(3000));
    expect(d.length).toBeLessThanOrEqual(DESC_LIMIT);
    const kept = d.split('\n').filter((l) => l.startsWith('`'));
    const numbers = kept.map((l) => Number(/mensagem (\d{4})/.exec(l)![1]));
    // The first ten, then a contiguous run up to the newest.
    expect(numbers.slice(0, 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const tail = numbers.slice(10);
    expect(tail.at(-1)).toBe(3000);
    expect(tail).toEqual(Array.from({ length: tail.length }, (_, i) => 3000 - tail.length + 1 + i));
    const omitted = 3000 - numbers.length;
    expect(d).toContain(`_… ${omitted.toLocaleString('pt-BR')} mensagens omitidas …_`);
    // Nothing more would fit: one more message of the same size passes the limit.
    expect(d.length + kept[kept.length - 1]!.length + 1).toBeGreaterThan(DESC_LIMIT);
  });

  it('cuts one very long message rather than losing the rest', () => {
    const d = cardDescription({ ...input(2), lines: [line(1, 'x'.repeat(20_000)), line(2, 'fim')] });
    expect(d.length).toBeLessThan(2_000);
    expect(d).toContain('x…');
    expect(d).toContain('fim');
  });
});
