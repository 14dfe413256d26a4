// The health verdict of one repository from what is recorded: pure, the caller passes `now` (docs/OPERATIONS.md
// "Status and health"). Stale beats failing: a sync that has failed for 40 days is first of all 40 days without a
// backup, and that is what the verdict says, with the age of the newest snapshot beside it.
import type { RepoState } from './engine/state.ts';
import { parseSnapshotTime } from './naming.ts';
import { describeAge, isInFuture } from './snapshot-time.ts';
import type { Health } from './types.ts';

/** A daily backup that has not succeeded for this long is stale (a day plus slack for a slow run). */
export const HEALTHY_WITHIN_MS = 26 * 3600 * 1000;

export interface HealthInput {
  initialized: boolean;
  state: RepoState | null;
  /** The newest snapshot not named in the future. */
  newestSnapshot: string | null;
  /** Snapshots named in the future (a clock ran ahead): reported, never counted. */
  futureSnapshots: readonly string[];
  now: Date;
}

export interface HealthVerdict {
  health: Health;
  reason: string;
  lastSuccess: string | null;
  /** Seconds since the last successful sync; null when there was none or its time is in the future. */
  lastSuccessAgeSeconds: number | null;
  /** Seconds since the newest trusted snapshot was taken (by its name). */
  newestSnapshotAgeSeconds: number | null;
  /** Clock skew and the like: true, but not a verdict by themselves. */
  warnings: string[];
}

const seconds = (ms: number) => Math.round(ms / 1000);

export function healthOf(input: HealthInput): HealthVerdict {
  const { initialized, state, newestSnapshot, futureSnapshots, now } = input;
  const last = state?.lastSync ?? null;
  const warnings: string[] = [];
  const future = (iso: string | null | undefined) => Boolean(iso) && isInFuture(new Date(iso!), now);
  if (futureSnapshots.length) {
    warnings.push(
      `clock skew: ${futureSnapshots.length} snapshot(s) named in the future (newest ${futureSnapshots.at(-1)}, clock now ${now.toISOString()}); they are never used as "latest"`,
    );
  }
  if (future(last?.at)) warnings.push(`clock skew: the last sync is recorded at ${last!.at}, later than now (${now.toISOString()})`);
  else if (future(state?.lastSuccess)) warnings.push(`clock skew: the last success is recorded at ${state!.lastSuccess}, later than now (${now.toISOString()})`);

  const lastSuccess = state?.lastSuccess ?? null;
  const successAgeMs = lastSuccess && !future(lastSuccess) ? now.getTime() - new Date(lastSuccess).getTime() : null;
  const snapshotAt = newestSnapshot ? parseSnapshotTime(newestSnapshot) : undefined;
  const snapshotAgeMs = snapshotAt ? now.getTime() - snapshotAt.getTime() : null;
  const verdict = (health: Health, reason: string): HealthVerdict => ({
    health,
    reason,
    lastSuccess,
    lastSuccessAgeSeconds: successAgeMs === null ? null : seconds(successAgeMs),
    newestSnapshotAgeSeconds: snapshotAgeMs === null ? null : seconds(snapshotAgeMs),
    warnings,
  });
  const failure = last && !last.ok ? `last sync at ${last.at} failed: ${last.error ?? 'unknown error'}` : null;
  const snapshotPart = newestSnapshot ? `newest snapshot ${newestSnapshot} is ${describeAge(snapshotAgeMs!)} old` : 'no snapshot yet';

  if (last?.ok && last.absent && !initialized) {
    // Nothing upstream to back up (a wiki GitHub does not have): fine while that answer is fresh.
    const fresh = successAgeMs !== null && successAgeMs <= HEALTHY_WITHIN_MS;
    return verdict(fresh ? 'healthy' : 'stale', `${last.absent} at the last sync (${last.at})${fresh ? ': nothing to back up' : ', more than 26 h ago'}`);
  }
  if (!initialized) {
    // A first sync that failed left no mirror: that is a failure to report, not a repository nobody asked for.
    if (failure) return verdict('failing', `first sync never succeeded: ${failure}`);
    return verdict('uninitialized', 'no mirror yet: run init or sync');
  }
  if (!last) return verdict('stale', 'never synced by this tool');
  if (successAgeMs === null || successAgeMs > HEALTHY_WITHIN_MS) {
    const since =
      successAgeMs !== null
        ? `no successful sync for ${describeAge(successAgeMs)} (last success ${lastSuccess}, more than 26 h ago)`
        : lastSuccess
          ? `the last success is dated in the future (${lastSuccess}), so its age is unknown`
          : 'never synced successfully';
    return verdict('stale', [since, snapshotPart, ...(failure ? [failure] : [])].join('; '));
  }
  if (failure) return verdict('failing', `${failure}; last success ${describeAge(successAgeMs)} ago; ${snapshotPart}`);
  if (last.ok && last.absent) return verdict('healthy', `${last.absent} at the last sync (${last.at}); ${snapshotPart}, kept from before`);
  return verdict('healthy', `last sync ${last.at} succeeded; ${snapshotPart}`);
}
