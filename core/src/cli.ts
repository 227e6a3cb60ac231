#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline/promises';
import { loadConfig, ConfigError } from './services/config.js';
import { createLogger } from './services/logger.js';
import { openDatabase } from './services/database.js';
import { migrate } from './services/migrations.js';
import { identityEntities, UserSchema } from './identity/entities.js';
import { coreMigrations } from './identity/migrations.js';
import { IdentityService } from './identity/service.js';
import { hashPassword, PASSWORD_MIN_LENGTH } from './identity/passwords.js';

const HELP = `PlugChat command line

  plugchat create-owner --account "Acme" --name "Ann" --email ann@acme.com
      First run: creates the first account and its owner (an operator of this
      installation). The password is read from PLUGCHAT_PASSWORD or asked for.

  plugchat reset-password --email ann@acme.com
      Sets a new password for a user and signs them out everywhere.

Uses the same DATA_DIR / DATABASE_URL as the server.`;

async function readPassword(): Promise<string> {
  if (process.env.PLUGCHAT_PASSWORD) return process.env.PLUGCHAT_PASSWORD;
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
  const pw = await rl.question(`Password (at least ${PASSWORD_MIN_LENGTH} characters): `);
  rl.close();
  return pw.trim();
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  if (!command || command === 'help' || command === '--help') {
    console.log(HELP);
    return;
  }
  const { values } = parseArgs({ args: rest, options: { account: { type: 'string' }, name: { type: 'string' }, email: { type: 'string' } } });
  const config = loadConfig();
  const log = createLogger(process.env.LOG_LEVEL ?? 'warn');
  const db = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, entities: identityEntities, logger: log });
  try {
    await migrate(db.knex, db.kind, 'core', coreMigrations, log);
    const identity = new IdentityService(db.em);
    if (command === 'create-owner') {
      if (!values.account || !values.name || !values.email) fail('create-owner needs --account, --name and --email.\n\n' + HELP);
      if ((await identity.userCount()) > 0) fail('PlugChat is already set up. Sign in, or use reset-password if the password is lost.');
      const password = await readPassword();
      if (password.length < PASSWORD_MIN_LENGTH) fail(`The password must be at least ${PASSWORD_MIN_LENGTH} characters.`);
      await db.knex('core_installation').insert({ id: 1, set_up_at: new Date() });
      const { account, user } = await identity.createAccount(values.account, { email: values.email, name: values.name, password, operator: true });
      console.log(`Created account "${account.name}" and owner ${user.email}. Sign in at http://localhost:${config.port}/`);
    } else if (command === 'reset-password') {
      if (!values.email) fail('reset-password needs --email.');
      const em = db.em.fork();
      const user = await em.findOne(UserSchema, { email: values.email.trim().toLowerCase() });
      if (!user) fail(`No user with email ${values.email}.`);
      const password = await readPassword();
      if (password.length < PASSWORD_MIN_LENGTH) fail(`The password must be at least ${PASSWORD_MIN_LENGTH} characters.`);
      user.passwordHash = await hashPassword(password);
      await em.flush();
      await db.knex('core_sessions').where({ user_id: user.id }).delete();
      console.log(`Password changed for ${user.email}; their sessions were ended.`);
    } else {
      fail(`Unknown command "${command}".\n\n${HELP}`);
    }
  } finally {
    await db.close();
  }
}

main().catch((err) => {
  if (err instanceof ConfigError) fail(`Configuration error: ${err.message}`);
  fail(`Failed: ${(err as Error).message}`);
});
