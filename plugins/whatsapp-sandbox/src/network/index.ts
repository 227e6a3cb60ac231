export { SandboxNetwork, SandboxError } from './network.js';
export type { NetworkOptions, NetworkLogger, ScanOptions, TraceEntry } from './network.js';
export { SUPPORTED_BAILEYS_VERSION, installedBaileysVersion } from './baileys.js';
