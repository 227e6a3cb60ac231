import type { SandboxNetwork } from './network/index.js';

/** What the sandbox offers other plugins (whatsapp-session connects through it). */
export interface WhatsAppSandboxApi {
  /** The WebSocket URL to give Baileys as waWebSocketUrl. */
  wsUrl(): string;
  /** PEM of the media host's self-signed certificate, to trust for uploads and downloads. */
  mediaCertificate(): string;
  /** The certificate as a file, for NODE_EXTRA_CA_CERTS. */
  mediaCertificateFile(): string | undefined;
  network(): SandboxNetwork;
}
