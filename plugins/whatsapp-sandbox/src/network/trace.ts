import type { BinaryNode } from './baileys.js';
import type { Conn, TraceEntry } from './conn.js';
import { render } from './stanza.js';

/** The last stanzas in and out, rendered as XML, for tests and the sandbox page to inspect. */
export class TraceLog {
  private readonly entries: TraceEntry[] = [];

  constructor(private readonly limit: number) {}

  record(dir: 'in' | 'out', conn: Conn, n: BinaryNode): void {
    this.entries.push({ at: Date.now(), dir, conn: conn.id, jid: conn.jid, xml: render(n) });
    if (this.entries.length > this.limit) this.entries.splice(0, this.entries.length - this.limit);
  }

  all(): readonly TraceEntry[] {
    return this.entries;
  }

  /** Resolves when the predicate holds for an entry (existing or future). */
  waitFor(predicate: (e: TraceEntry) => boolean, timeoutMs: number): Promise<TraceEntry> {
    const found = this.entries.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const start = this.entries.length;
      const deadline = Date.now() + timeoutMs;
      const timer = setInterval(() => {
        const hit = this.entries.slice(Math.max(0, start - 1)).find(predicate);
        if (hit) {
          clearInterval(timer);
          resolve(hit);
        } else if (Date.now() > deadline) {
          clearInterval(timer);
          reject(new Error('timed out waiting for a trace entry'));
        }
      }, 20);
    });
  }
}
