// Types of fleet.js (plain JavaScript: the benchmarks use it too).
import type { ChildProcess } from 'node:child_process';
import type { SandboxNetwork } from '../../whatsapp-sandbox/src/network/index.js';

export const sleep: (ms: number) => Promise<void>;
export function waitUntil<T>(fn: () => Promise<T | undefined | false | null> | T | undefined | false | null, timeoutMs: number, what: string): Promise<T>;

export interface ApiResponse {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: Headers;
}
export class Api {
  constructor(base: string | (() => string), headers?: Record<string, string>);
  cookie?: string;
  readonly base: string;
  req(method: string, url: string, body?: unknown): Promise<ApiResponse>;
  get(url: string): Promise<ApiResponse>;
  post(url: string, body?: unknown): Promise<ApiResponse>;
  put(url: string, body?: unknown): Promise<ApiResponse>;
}

export interface FleetNode {
  url: string;
  node: string;
  proc: ChildProcess;
  exited: Promise<number | null>;
  output(): string;
}
export interface Fleet {
  dir: string;
  network: SandboxNetwork;
  databaseUrl: string;
  nodes: (FleetNode | undefined)[];
  start(i: number): Promise<FleetNode>;
  stop(i: number, signal?: NodeJS.Signals): Promise<void>;
  kill(i: number): Promise<void>;
  startAll(n: number): Promise<void>;
  devices(): ReturnType<SandboxNetwork['devices']>;
  cleanup(): Promise<void>;
}
export function createFleet(opts: { baseUrl: string; packages?: string[]; plugins?: Record<string, unknown>; sessionSettings?: Record<string, unknown>; logLevel?: string }): Promise<Fleet>;

export interface FleetInstance {
  id: string;
  token: string;
  phone: string;
}
export function pairInstances(fleet: Fleet, count: number, opts?: { bizPrefix?: string; delayMs?: number }): Promise<{ owner: Api; key: string; instances: FleetInstance[]; api: (inst: FleetInstance, i: number) => Api }>;
export function leaseOwners(databaseUrl: string): Promise<Map<string, string>>;
