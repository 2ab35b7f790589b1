/**
 * The append lease: with several ledger workers on one database, one at a time consumes
 * the queue and appends; the others wait and poll. Appends would stay correct without it
 * — the tree's size compare-and-set (store/append.ts) turns a second writer into a retry —
 * but two writers racing would only trade conflicts, and they would interleave leaves of
 * one source out of order. The lease makes "who appends" a single, visible answer.
 *
 * - PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) held on a
 *   dedicated connection. It dies with the holder's session: a SIGKILLed holder's socket
 *   is closed by its kernel and the server releases the lock at once; a vanished HOST is
 *   caught by `idle_session_timeout` (the holder pings every poll, so only a dead holder
 *   sits idle that long).
 * - SQLite (one host, one file): a row in `ledger_lease` naming the holder with an expiry
 *   the holder renews every poll; anyone may take it once it has expired. SQLite's own
 *   write lock cannot serve: held for the lease's lifetime it would block the holder's
 *   own appends, which run on another connection.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { exclusive } from './database';

/** The advisory lock's two keys: 'LDGR' and 1. Visible in pg_locks as classid/objid (objsubid 2). */
export const APPEND_LOCK_KEYS = [0x4c444752, 1] as const;

export interface AppendLease {
  /** Which mechanism, for logs and health. */
  readonly mechanism: 'postgres-advisory-lock' | 'sqlite-lease-row';
  /** This lease's holder id (random per process), as logs and `ledger_lease` show it. */
  readonly holderId: string;
  /**
   * Takes the lease if it is free, or confirms that it is still ours; false while another
   * holds it, and when the check itself fails (then it is not ours to count on).
   */
  refresh(): Promise<boolean>;
  /** The answer of the last refresh. */
  held(): boolean;
  /** Gives the lease up (a clean shutdown hands over at once instead of after an expiry). */
  release(): Promise<void>;
}

export interface AppendLeaseOptions {
  /** How often the holder refreshes; the SQLite lease expires after ttlMs without one. */
  ttlMs: number;
}

export function createAppendLease(db: DataSource, opts: AppendLeaseOptions): AppendLease {
  return db.options.type === 'postgres' ? new PostgresAppendLease(db, opts) : new SqliteAppendLease(db, opts);
}

class PostgresAppendLease implements AppendLease {
  readonly mechanism = 'postgres-advisory-lock' as const;
  readonly holderId = randomUUID();
  private client: Client | null = null;
  private holding = false;

  constructor(
    private readonly db: DataSource,
    private readonly opts: AppendLeaseOptions,
  ) {}

  held(): boolean {
    return this.holding;
  }

  async refresh(): Promise<boolean> {
    try {
      const client = this.client ?? (await this.connect());
      if (this.holding) {
        // The lock lives as long as this session: a round trip proves the session does.
        await client.query('SELECT 1');
      } else {
        const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [...APPEND_LOCK_KEYS]);
        this.holding = rows[0]?.ok === true;
      }
    } catch {
      await this.drop();
    }
    return this.holding;
  }

  async release(): Promise<void> {
    if (this.client && this.holding) await this.client.query('SELECT pg_advisory_unlock($1, $2)', [...APPEND_LOCK_KEYS]).catch(() => undefined);
    await this.drop();
  }

  private async connect(): Promise<Client> {
    const url = (this.db.options as { url?: string }).url;
    // application_name (at most 63 characters) names the holder in pg_stat_activity: its pid and lease id.
    const client = new Client({ connectionString: url, application_name: `ledger-lease pid:${process.pid} ${this.holderId}`, keepAlive: true, query_timeout: 5_000 });
    // A broken session has lost the lock with it: stop appending at once, not at the next refresh.
    client.on('error', () => void this.drop());
    await client.connect();
    // A holder whose host vanished leaves a session nobody pings: the server ends it, and the lock with it.
    await client.query(`SET idle_session_timeout = ${Math.max(1_000, Math.round(this.opts.ttlMs))}`);
    this.client = client;
    return client;
  }

  private async drop(): Promise<void> {
    this.holding = false;
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }
}

class SqliteAppendLease implements AppendLease {
  readonly mechanism = 'sqlite-lease-row' as const;
  readonly holderId = randomUUID();
  private holding = false;

  constructor(
    private readonly db: DataSource,
    private readonly opts: AppendLeaseOptions,
  ) {}

  held(): boolean {
    return this.holding;
  }

  async refresh(): Promise<boolean> {
    try {
      const now = new Date();
      const expires = new Date(now.getTime() + this.opts.ttlMs).toISOString();
      this.holding = await exclusive(this.db, async () => {
        await this.db.query(`INSERT OR IGNORE INTO ledger_lease (id, holder, expires_at) VALUES (1, '', '1970-01-01T00:00:00.000Z')`);
        // One statement, so two processes cannot both see the lease free: SQLite runs it under its write lock.
        await this.db.query('UPDATE ledger_lease SET holder = ?, expires_at = ? WHERE id = 1 AND (holder = ? OR expires_at < ?)', [
          this.holderId,
          expires,
          this.holderId,
          now.toISOString(),
        ]);
        const rows: { holder: string }[] = await this.db.query('SELECT holder FROM ledger_lease WHERE id = 1');
        return rows[0]?.holder === this.holderId;
      });
    } catch {
      this.holding = false;
    }
    return this.holding;
  }

  async release(): Promise<void> {
    if (!this.holding) return;
    this.holding = false;
    await exclusive(this.db, () =>
      this.db.query(`UPDATE ledger_lease SET expires_at = '1970-01-01T00:00:00.000Z' WHERE id = 1 AND holder = ?`, [this.holderId]),
    ).catch(() => undefined);
  }
}
