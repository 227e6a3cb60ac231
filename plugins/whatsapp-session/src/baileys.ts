import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
/** Baileys is CommonJS; requiring it keeps the runtime object and its types exact. */
export const Baileys: typeof import('@whiskeysockets/baileys') = require('@whiskeysockets/baileys');
export type {
  AuthenticationCreds,
  AuthenticationState,
  SignalDataTypeMap,
  WAMessage,
  WASocket,
  AnyMessageContent,
  ConnectionState,
  GroupMetadata,
} from '@whiskeysockets/baileys';
/** The WhatsApp Web version announced to the server (Baileys' own fallback; never fetched from the network). */
export const WA_VERSION: [number, number, number] = [2, 3000, 1019707846];
