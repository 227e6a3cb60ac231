import type { Knex } from '@mikro-orm/knex';

/** What knex's SQLite client calls on the connection it holds (the statement cache prepares on the raw one). */
interface RawConnection {
  run(...args: unknown[]): unknown;
  all(...args: unknown[]): unknown;
  exec(...args: unknown[]): unknown;
}

/**
 * One use of the shared connection: what knex holds for one statement, or for one transaction.
 * Knex marks the connection it holds (`__knexTxId`), so each use gets an object of its own; the
 * calls go to the one node-sqlite3 connection (a transaction's statements through `run` and `all`,
 * MikroORM's file loader through `exec`).
 */
export class Lease implements RawConnection {
  released = false;
  constructor(readonly raw: RawConnection) {}
  run(...args: unknown[]) {
    return this.raw.run(...args);
  }
  all(...args: unknown[]) {
    return this.raw.all(...args);
  }
  exec(...args: unknown[]) {
    return this.raw.exec(...args);
  }
}

/** The node-sqlite3 connection behind what knex hands a query. */
export const rawConnection = <T>(connection: T | Lease): T => (connection instanceof Lease ? (connection.raw as T) : connection);

/**
 * Statements sent to the connection at once. Each waits for the connection's mutex on a thread of
 * libuv's pool (4 threads, also the file system's, DNS lookups' and password hashing's); with two,
 * the next statement is always ready when one ends, and half the pool stays free for the rest.
 */
export const STATEMENTS_AT_ONCE = 2;

/**
 * Statements share the connection (STATEMENTS_AT_ONCE at a time); a transaction has it to itself.
 * Waiters go in arrival order, so a transaction waits only for the statements already running, not
 * for those that come after it.
 */
class Gate {
  private shared = 0;
  private exclusive = false;
  private readonly waiting: { exclusive: boolean; go: () => void }[] = [];

  constructor(
    private readonly timeoutMs: number,
    private readonly maxShared = STATEMENTS_AT_ONCE,
  ) {}

  async enter(exclusive: boolean): Promise<void> {
    if (!this.waiting.length && this.open(exclusive)) return this.take(exclusive);
    await new Promise<void>((go, fail) => {
      const waiter = { exclusive, go: () => (clearTimeout(timer), go()) };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        this.next();
        fail(new Error(`Timeout acquiring the database connection: it has been busy for ${this.timeoutMs / 1000} s. Look in the log for a stuck transaction or a very long query, then restart.`));
      }, this.timeoutMs);
      this.waiting.push(waiter);
    });
  }

  leave(exclusive: boolean): void {
    if (exclusive) this.exclusive = false;
    else this.shared--;
    this.next();
  }

  private open(exclusive: boolean) {
    return exclusive ? !this.exclusive && !this.shared : !this.exclusive && this.shared < this.maxShared;
  }

  private take(exclusive: boolean) {
    if (exclusive) this.exclusive = true;
    else this.shared++;
  }

  private next() {
    while (this.waiting.length && this.open(this.waiting[0]!.exclusive)) {
      const waiter = this.waiting.shift()!;
      this.take(waiter.exclusive);
      waiter.go();
    }
  }
}

interface TransactionLike {
  acquireConnection(config: { connection?: unknown } | undefined, cb: (connection: unknown) => Promise<unknown>): Promise<unknown>;
}
interface SqliteClient {
  config: { acquireConnectionTimeout?: number };
  acquireConnection(): Promise<RawConnection>;
  releaseConnection(connection: unknown): Promise<void>;
  transaction(...args: unknown[]): TransactionLike;
  destroy(callback?: unknown): Promise<void>;
}

/**
 * Lets the embedded database's statements share its one connection. Knex's pool lends the
 * connection to one query at a time and takes it back only when the query's result has reached the
 * event loop, so under load every statement also waited for the event loop's turn of the statement
 * before it: the connection was busy most of the time while SQLite itself was mostly idle, and a
 * request's insert queued behind the status writes and Signal sessions of the sends in flight.
 *
 * Now statements outside a transaction go to node-sqlite3 without waiting for each other's answers
 * (STATEMENTS_AT_ONCE at a time); node-sqlite3 runs each on a worker thread under the connection's
 * mutex, one after another, each in its own implicit transaction. A transaction still has the
 * connection to itself: it waits for the statements running to finish, and statements that come
 * meanwhile wait for it to end (they would otherwise become part of it, and be rolled back with it).
 */
export function shareSqliteConnection(knex: Knex): void {
  const client = knex.client as unknown as SqliteClient;
  const acquire = client.acquireConnection.bind(client);
  const release = client.releaseConnection.bind(client);
  const destroy = client.destroy.bind(client);
  const transaction = client.transaction;
  const gate = new Gate(client.config.acquireConnectionTimeout ?? 60_000);

  // The pool's one connection, held for the life of the pool.
  let held: Promise<RawConnection> | undefined;
  const connection = () =>
    (held ??= acquire().catch((err: unknown) => {
      held = undefined;
      throw err;
    }));
  const lease = async (exclusive: boolean) => {
    await gate.enter(exclusive);
    try {
      return new Lease(await connection());
    } catch (err) {
      gate.leave(exclusive);
      throw err;
    }
  };

  client.acquireConnection = () => lease(false);
  client.releaseConnection = async (used) => {
    if (!(used instanceof Lease)) return release(used);
    if (used.released) return;
    used.released = true;
    gate.leave(false);
  };

  client.transaction = function (this: SqliteClient, ...args: unknown[]) {
    const trx = transaction.apply(this, args);
    // A transaction of the client's own (nested ones run on their parent's connection) takes the
    // connection for itself; knex leaves a connection it is given to the giver.
    const own = trx.acquireConnection;
    trx.acquireConnection = async (config, cb) => {
      if (config?.connection) return own.call(trx, config, cb);
      const used = await lease(true);
      try {
        return await own.call(trx, { ...config, connection: used }, cb);
      } finally {
        used.released = true;
        gate.leave(true);
      }
    };
    return trx;
  };

  client.destroy = async (callback?: unknown) => {
    // The pool waits for its connection to come back before it closes: given back once the
    // statements running are done (those that come later find the pool closed, as they would).
    if (held) {
      await gate.enter(true);
      try {
        const raw = await held.catch(() => undefined);
        held = undefined;
        if (raw) await release(raw);
      } finally {
        gate.leave(true);
      }
    }
    return destroy(callback);
  };
}
