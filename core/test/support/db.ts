import { freshPostgres as createDatabase } from './freshPostgres.js';

/** Set when the suite should also run against PostgreSQL. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || undefined;

/** The storage modes every storage-touching test runs in. */
export const STORAGE_MODES: ('embedded' | 'postgresql')[] = TEST_DATABASE_URL ? ['embedded', 'postgresql'] : ['embedded'];

/** Creates an empty PostgreSQL database for one test and returns its URL and a drop function. */
export async function freshPostgres(): Promise<{ url: string; drop: () => Promise<void> }> {
  if (!TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set');
  return createDatabase(TEST_DATABASE_URL);
}
