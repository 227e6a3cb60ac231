import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The PlugChat installation (the folder holding core/): core/dist/services → three levels up. */
export const INSTALL_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** A configuration problem: where it is, which key, and what was expected. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly key: string,
    readonly expected: string,
  ) {
    super(`${source}: "${key}" ${expected}`);
    this.name = 'ConfigError';
  }
}

const pluginEntry = z
  .object({
    enabled: z.boolean().optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

const fileSchema = z
  .object({
    $schema: z.string().optional(),
    packages: z.array(z.string().min(1)).default([]),
    /** Whether the plugins shipped with PlugChat (its own plugins/ folder) are found; false: only this file's folder's plugins/ and the packages. */
    bundled: z.boolean().default(true),
    plugins: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/), pluginEntry).default({}),
  })
  .strict();

export type PluginsFile = z.infer<typeof fileSchema>;

export interface AppConfig {
  /** The folder of plugins.config.json: its plugins/ folder and its packages are found from here. */
  rootDir: string;
  /** Where PlugChat is installed: the bundled plugins are found in its plugins/ folder. */
  installDir: string;
  configFile: string;
  file: PluginsFile;
  port: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  logLevel: string;
  appSecret?: string;
  bodyLimit: string;
  uiDir: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return `has unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}; allowed: packages, plugins, and per plugin enabled, settings`;
    case 'invalid_type':
      return `must be ${issue.expected}`;
    default:
      return issue.message;
  }
}

export function loadPluginsFile(configFile: string): PluginsFile {
  if (!existsSync(configFile)) return fileSchema.parse({});
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(configFile, 'utf8'));
  } catch (err) {
    throw new ConfigError(configFile, '(file)', `is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(configFile, issue.path.join('.') || '(root)', describeIssue(issue));
  }
  return parsed.data;
}

type Env = Record<string, string | undefined>;

/** Reads plugins.config.json and the environment; throws ConfigError on the first problem. */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): AppConfig {
  const configFile = path.resolve(cwd, env.PLUGCHAT_CONFIG ?? 'plugins.config.json');
  const rootDir = path.dirname(configFile);
  const file = loadPluginsFile(configFile);

  const port = env.PORT === undefined || env.PORT === '' ? 3000 : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError('environment', 'PORT', `must be an integer from 0 to 65535, got "${env.PORT}"`);
  }
  const logLevel = env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('environment', 'LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('environment', 'DATABASE_URL', 'must be a postgres:// or postgresql:// URL');
  }
  const appSecret = env.APP_SECRET || undefined;
  if (appSecret && appSecret.length < 32) {
    throw new ConfigError('environment', 'APP_SECRET', 'must be at least 32 characters (for example: openssl rand -hex 32)');
  }
  const bodyLimit = env.BODY_LIMIT || '1mb';
  if (!/^\d+(b|kb|mb)$/i.test(bodyLimit)) {
    throw new ConfigError('environment', 'BODY_LIMIT', `must look like 512kb or 10mb, got "${bodyLimit}"`);
  }
  return {
    rootDir,
    installDir: INSTALL_DIR,
    configFile,
    file,
    port,
    host: env.HOST || '0.0.0.0',
    dataDir: path.resolve(cwd, env.DATA_DIR || 'data'),
    databaseUrl,
    logLevel,
    appSecret,
    bodyLimit,
    // The web app next to the core in this repository, unless told otherwise.
    uiDir: env.PLUGCHAT_UI_DIR ? path.resolve(cwd, env.PLUGCHAT_UI_DIR) : fileURLToPath(new URL('../../../ui/dist', import.meta.url)),
  };
}
