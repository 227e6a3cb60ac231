// Shared by the test suite and the benchmarks: an empty PostgreSQL database of its own, and its removal.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * @param {string} baseUrl a PostgreSQL URL whose server may create databases
 * @param {string} [prefix]
 * @returns {Promise<{ url: string, drop: () => Promise<void> }>}
 */
export async function freshPostgres(baseUrl, prefix = 'plugchat_t_') {
  const name = `${prefix}${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
