export { SandboxNetwork, SandboxError } from './network.js';
export type { NetworkOptions, NetworkLogger, ScanOptions, TraceEntry } from './network.js';
export { SUPPORTED_BAILEYS_VERSION, installedBaileysVersion } from './baileys.js';
export { VirtualPhone } from './phones.js';
export type { Group, PhoneMessage } from './state.js';
export { GroupError } from './groups.js';
export { MediaServer } from './media.js';
