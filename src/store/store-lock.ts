// Leases in the store that keep prune and push apart (docs/STORE_FORMAT.md "Locks"). A prune holds the one
// exclusive lease; each push run holds a shared one. Each side writes its own lease first and only then looks for
// the other's, so of two that start together at least one sees the other and steps back.
//
// Leases are judged by the store's lastModified plus a fixed lease time, never by a body: with encryption the
// backup side cannot read bodies, but every side can list keys. Nothing is ever overwritten:
//  - exclusive: locks/exclusive/<generation>, a 12-digit counter. Taking or renewing writes generation n+1 with a
//    conditional put, so of two takers exactly one gets it; the holder is the writer of the highest generation,
//    live while that generation is younger than the lease time and has no <generation>.released beside it.
//  - shared: locks/shared/<id>/<renewal>. Renewing writes the next renewal and deletes the previous one; releasing
//    deletes the current one. A shared lease is live while its newest key is younger than the lease time.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { BackupError, LockHeldError } from '../errors.ts';
import { LOCKS_PREFIX } from './format.ts';
import type { Store, StoredObject } from './store.ts';

export const EXCLUSIVE_PREFIX = `${LOCKS_PREFIX}exclusive/`;
export const SHARED_PREFIX = `${LOCKS_PREFIX}shared/`;

export interface LeaseOptions {
  /** How long a lease lives without renewal (default 15 minutes). Renewed every third of it. */
  leaseMs?: number;
  clock?: () => Date;
  /** What the lease is for, written into its body for people reading the store ("prune", "push"). */
  purpose: string;
}

const DEFAULT_LEASE_MS = 15 * 60_000;

const pad = (n: number, width: number) => String(n).padStart(width, '0');

function leaseBody(purpose: string, id: string, now: Date, leaseMs: number): Buffer {
  return Buffer.from(
    `${JSON.stringify({ purpose, id, host: hostname(), pid: process.pid, writtenAt: now.toISOString(), leaseMs }, null, 2)}\n`,
  );
}

async function listAll(store: Store, prefix: string): Promise<StoredObject[]> {
  const out: StoredObject[] = [];
  for await (const object of store.list(prefix)) out.push(object);
  return out;
}

interface ExclusiveState {
  /** Highest generation written, 0 when none. */
  generation: number;
  /** When that generation was written (store time), if any. */
  writtenAt: Date | null;
  released: boolean;
  keys: StoredObject[];
}

async function exclusiveState(store: Store): Promise<ExclusiveState> {
  const keys = await listAll(store, EXCLUSIVE_PREFIX);
  let generation = 0;
  let writtenAt: Date | null = null;
  const released = new Set<number>();
  for (const object of keys) {
    const m = /^locks\/exclusive\/(\d{12})(\.released)?$/.exec(object.key);
    if (!m) continue;
    const gen = Number(m[1]);
    if (m[2]) released.add(gen);
    else if (gen > generation) {
      generation = gen;
      writtenAt = object.lastModified;
    }
  }
  return { generation, writtenAt, released: released.has(generation), keys };
}

const isLive = (writtenAt: Date | null, released: boolean, now: Date, leaseMs: number) =>
  writtenAt !== null && !released && now.getTime() - writtenAt.getTime() < leaseMs;

/** Renews on a timer until released; `assertHeld` throws once the lease may have lapsed. */
abstract class Lease {
  protected readonly leaseMs: number;
  protected readonly clock: () => Date;
  protected readonly id = `${hostname().replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40)}-${process.pid}-${randomBytes(4).toString('hex')}`;
  /** Local time of our last successful write: the lease is ours until this plus leaseMs (minus a margin). */
  protected renewedAt: Date;
  private timer: NodeJS.Timeout | null = null;
  private failure: unknown = null;
  protected released = false;

  protected readonly store: Store;
  protected readonly options: LeaseOptions;

  constructor(store: Store, options: LeaseOptions) {
    this.store = store;
    this.options = options;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.clock = options.clock ?? (() => new Date());
    this.renewedAt = this.clock();
  }

  protected body(): Buffer {
    return leaseBody(this.options.purpose, this.id, this.clock(), this.leaseMs);
  }

  protected startRenewing(): void {
    this.timer = setInterval(() => {
      this.renew().catch((error: unknown) => {
        this.failure = error;
      });
    }, Math.max(10, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
  }

  protected stopRenewing(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  abstract renew(): Promise<void>;

  /** Throws unless the lease is certainly still ours (renewed recently enough, no renewal failed). */
  assertHeld(): void {
    if (this.released) throw new BackupError(`store ${this.options.purpose} lease was already released`);
    if (this.failure) throw new BackupError(`store ${this.options.purpose} lease could not be renewed: ${(this.failure as Error).message}`);
    // A margin of a tenth of the lease for clock drift between us and the store.
    if (this.clock().getTime() - this.renewedAt.getTime() > this.leaseMs * 0.9) {
      throw new BackupError(`store ${this.options.purpose} lease lapsed (not renewed for ${Math.round((this.clock().getTime() - this.renewedAt.getTime()) / 1000)}s)`);
    }
  }
}

/** The exclusive lease (prune). */
export class ExclusiveLease extends Lease {
  private generation = 0;

  /** Take the exclusive lease, or throw LockHeldError when another holder's lease is live. */
  static async acquire(store: Store, options: LeaseOptions): Promise<ExclusiveLease> {
    const lease = new ExclusiveLease(store, options);
    await lease.take();
    lease.startRenewing();
    return lease;
  }

  private async take(): Promise<void> {
    const state = await exclusiveState(this.store);
    if (isLive(state.writtenAt, state.released, this.clock(), this.leaseMs)) {
      throw new LockHeldError(
        `${this.store.location}: another prune holds the store lock (written ${state.writtenAt!.toISOString()}; ` +
          `it expires ${new Date(state.writtenAt!.getTime() + this.leaseMs).toISOString()} unless renewed)`,
      );
    }
    const next = state.generation + 1;
    const put = await this.store.putOnce(`${EXCLUSIVE_PREFIX}${pad(next, 12)}`, this.body());
    if (!put.created) throw new LockHeldError(`${this.store.location}: another prune took the store lock at the same moment`);
    // A taker that listed before an older generation was cleaned up could have written a lower one; the highest wins.
    const after = await exclusiveState(this.store);
    if (after.generation !== next) {
      await this.store.delete(`${EXCLUSIVE_PREFIX}${pad(next, 12)}`).catch(() => undefined);
      throw new LockHeldError(`${this.store.location}: another prune took the store lock at the same moment`);
    }
    this.generation = next;
    this.renewedAt = this.clock();
    // Older generations are history; removing them keeps the listing short.
    for (const object of after.keys) {
      const m = /^locks\/exclusive\/(\d{12})/.exec(object.key);
      if (m && Number(m[1]) < next) await this.store.delete(object.key).catch(() => undefined);
    }
  }

  async renew(): Promise<void> {
    if (this.released) return;
    const startedAt = this.clock();
    const next = this.generation + 1;
    const put = await this.store.putOnce(`${EXCLUSIVE_PREFIX}${pad(next, 12)}`, this.body());
    if (!put.created) throw new BackupError(`${this.store.location}: the store lock was taken over by another prune`);
    await this.store.delete(`${EXCLUSIVE_PREFIX}${pad(this.generation, 12)}`).catch(() => undefined);
    this.generation = next;
    this.renewedAt = startedAt;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.stopRenewing();
    this.released = true;
    await this.store.putOnce(`${EXCLUSIVE_PREFIX}${pad(this.generation, 12)}.released`, this.body());
  }
}

/** A shared lease (one per push run). */
export class SharedLease extends Lease {
  private renewal = 0;

  private key(renewal = this.renewal): string {
    return `${SHARED_PREFIX}${this.id}/${pad(renewal, 6)}`;
  }

  /**
   * Take a shared lease. While an exclusive lease is live, step back and poll every `pollMs` for up to `waitMs`
   * (default: one lease time), then throw LockHeldError.
   */
  static async acquire(store: Store, options: LeaseOptions & { waitMs?: number; pollMs?: number }): Promise<SharedLease> {
    const lease = new SharedLease(store, options);
    const deadline = lease.clock().getTime() + (options.waitMs ?? lease.leaseMs);
    for (;;) {
      await store.putOnce(lease.key(), lease.body());
      lease.renewedAt = lease.clock();
      const state = await exclusiveState(store);
      if (!isLive(state.writtenAt, state.released, lease.clock(), lease.leaseMs)) break;
      await store.delete(lease.key()).catch(() => undefined);
      lease.renewal++;
      if (lease.clock().getTime() >= deadline) {
        throw new LockHeldError(`${store.location}: a prune holds the store lock (written ${state.writtenAt!.toISOString()}); push again when it is done`);
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 10_000));
    }
    lease.startRenewing();
    return lease;
  }

  async renew(): Promise<void> {
    if (this.released) return;
    const startedAt = this.clock();
    await this.store.putOnce(this.key(this.renewal + 1), this.body());
    await this.store.delete(this.key()).catch(() => undefined);
    this.renewal++;
    this.renewedAt = startedAt;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.stopRenewing();
    this.released = true;
    // Each renewal deleted its predecessor; one left over by a failed delete lapses and prune removes it.
    await this.store.delete(this.key()).catch(() => undefined);
  }
}

/** Shared leases that are live now: pushes in flight. Stale ones (a killed push) are returned in `stale`. */
export async function sharedLeases(store: Store, options: { leaseMs?: number; clock?: () => Date } = {}): Promise<{ live: string[]; stale: StoredObject[] }> {
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const now = (options.clock ?? (() => new Date()))();
  const newest = new Map<string, Date>();
  const all = await listAll(store, SHARED_PREFIX);
  for (const object of all) {
    const id = object.key.slice(SHARED_PREFIX.length).split('/')[0]!;
    const seen = newest.get(id);
    if (!seen || object.lastModified > seen) newest.set(id, object.lastModified);
  }
  const live = [...newest].filter(([, at]) => now.getTime() - at.getTime() < leaseMs).map(([id]) => id);
  const stale = all.filter((o) => !live.includes(o.key.slice(SHARED_PREFIX.length).split('/')[0]!));
  return { live, stale };
}
