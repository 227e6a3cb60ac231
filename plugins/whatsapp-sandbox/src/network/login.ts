import { proto } from './baileys.js';
import type { Conn } from './conn.js';
import type { NetworkCore } from './core.js';
import type { Account } from './state.js';
import { deviceJid, messageId, node, now, SERVER, userJid } from './stanza.js';

/** A linked device logging in (§2, §4): the noise key check, one live connection per device, then its bootstrap and queue. */
export class Login {
  /** Logins and replacements per device, for tests and the bench (not kept across restarts). */
  readonly counts = new Map<string, { logins: number; replaced: number }>();
  private readonly loginFailures = new Map<string, string>();

  constructor(private readonly net: NetworkCore) {}

  /** The device's next login fails with this reason. */
  failNext(jid: string, reason: string) {
    this.loginFailures.set(jid, reason);
  }

  login(conn: Conn, client: ReturnType<typeof proto.ClientPayload.decode>) {
    const phone = String(client.username);
    const jid = deviceJid(phone, client.device ?? 0);
    const device = this.net.state.devices[jid];
    const forced = this.loginFailures.get(jid);
    if (forced) this.loginFailures.delete(jid);
    if (forced || !device || !conn.clientStatic || !device.noiseKey.equals(conn.clientStatic)) {
      this.net.send(conn, node('failure', { reason: forced ?? '401', location: 'sim' }));
      return this.net.close(conn, 20);
    }
    const old = this.net.live.get(jid);
    const counts = this.counts.get(jid) ?? { logins: 0, replaced: 0 };
    this.counts.set(jid, counts);
    counts.logins++;
    if (old && old !== conn) {
      counts.replaced++;
      this.net.send(old, node('stream:error', {}, [node('conflict', { type: 'replaced' })]));
      this.net.live.delete(jid);
      this.net.close(old, 20);
    }
    conn.device = device;
    this.net.live.set(jid, conn);
    this.net.send(conn, node('success', { t: now(), props: '1', abprops: '1', location: 'sim', creation: now() }));
  }

  /** After passive/active (§4.3): bootstrap a fresh device, flush its queue, then <ib><offline>. */
  onReady(conn: Conn) {
    const device = conn.device!;
    conn.ready = true;
    const account = this.net.state.accounts[device.phone]!;
    // Repeated on every login until the client has processed it: a client stopped
    // before handling it would otherwise buffer its events forever (§4.5).
    if (!device.bootstrapped) this.bootstrap(conn, account);
    const queued = device.queue.splice(0);
    for (const n of queued) {
      if (this.net.opts.offlineAttr) n.attrs.offline = '1';
      this.net.send(conn, n);
    }
    if (queued.length) this.net.save();
    this.net.send(conn, node('ib', { from: SERVER }, [node('offline', { count: queued.length })]));
    this.net.emit('ready', { jid: device.jid });
  }

  /** §4.4: the app-state key share and the history notifications from the account's own phone. */
  private bootstrap(conn: Conn, account: Account) {
    const from = userJid(account.phone);
    const keyShare = proto.Message.encode({
      protocolMessage: {
        type: proto.Message.ProtocolMessage.Type.APP_STATE_SYNC_KEY_SHARE,
        appStateSyncKeyShare: {
          keys: [
            {
              keyId: { keyId: account.appStateKey.keyId },
              keyData: { keyData: account.appStateKey.keyData, fingerprint: { rawId: 1, currentIndex: 0, deviceIndexes: [0] }, timestamp: Date.now() },
            },
          ],
        },
      },
    }).finish();
    // A phone with a history hands it over (§7.5); one without sends the notification that carries nothing to download.
    const history = account.history?.notifications ?? [
      proto.Message.encode({
        protocolMessage: {
          type: proto.Message.ProtocolMessage.Type.HISTORY_SYNC_NOTIFICATION,
          historySyncNotification: { syncType: proto.HistorySync.HistorySyncType.NON_BLOCKING_DATA, chunkOrder: 0, progress: 100 },
        },
      }).finish(),
    ];
    for (const payload of [keyShare, ...history]) {
      this.net.send(conn, node('message', { from, id: messageId(), t: now(), type: 'text', notify: account.name }, [node('plaintext', {}, Buffer.from(payload))]));
    }
  }
}
