export { SandboxNetwork, SandboxError } from './network/index.js';
