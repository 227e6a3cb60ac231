import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { installedBaileysVersion, SUPPORTED_BAILEYS_VERSION } from '../src/network/index.js';

/**
 * The network mirrors one Baileys build stanza by stanza (PN addressing, the
 * event buffer, SERVER_ACK from sender receipts). An upgrade must be re-checked
 * against the design notes before this test is changed.
 */
describe('Baileys version guard', () => {
  it('runs the Baileys version the network was checked against', () => {
    expect(
      installedBaileysVersion(),
      `Baileys ${installedBaileysVersion()} is installed but the sandbox network was verified against ${SUPPORTED_BAILEYS_VERSION}. ` +
        'Re-run the sandbox tests, re-check whatsapp-simulator.md against the new source, then update SUPPORTED_BAILEYS_VERSION.',
    ).toBe(SUPPORTED_BAILEYS_VERSION);
  });

  it('pins the exact version in package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.dependencies['@whiskeysockets/baileys']).toBe(SUPPORTED_BAILEYS_VERSION);
  });
});
