import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const WORK = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../.test-work');

/**
 * Initialises one embedded queue database (PGlite + pg-boss schema) that each
 * test copies, instead of paying the first-run initialisation in every test.
 */
export default async function setup() {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const template = path.join(WORK, 'queue-template');
  if (!existsSync(template)) {
    const { PGlite } = await import('@electric-sql/pglite');
    const { openQueue } = await import('../../src/services/queue.js');
    const { createLogger } = await import('../../src/services/logger.js');
    const q = await openQueue({ dataDir: path.join(WORK, 'template-data'), logger: createLogger('silent') });
    await q.close();
    void PGlite;
    rmSync(template, { recursive: true, force: true });
    const { renameSync } = await import('node:fs');
    renameSync(path.join(WORK, 'template-data', 'queue'), template);
  }
  return () => rmSync(WORK, { recursive: true, force: true });
}
