// Keeps the working root warm between runs on GitHub-hosted runners with @actions/cache (docs/GITHUB_ACTIONS.md,
// "GitHub-hosted runners"). The cache is a speed-up, never the backup (the store is): every failure here is a
// warning, and an entry is restored only into an empty root, never over a backup that is already there.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as cache from '@actions/cache';
import * as core from '@actions/core';
import { errorMessage } from '../../../src/errors.ts';

export interface RootCacheKeys {
  /** This run's entry: entries are immutable, so every run saves under a new key. */
  key: string;
  /** Restored by prefix: the newest entry any earlier run saved. */
  restoreKeys: string[];
}

export type RestoreOutcome = { kind: 'restored'; key: string } | { kind: 'miss' } | { kind: 'skipped'; reason: string };
export type SaveOutcome = { kind: 'saved'; key: string } | { kind: 'skipped'; reason: string } | { kind: 'failed'; reason: string };

export function rootCacheKeys(prefix: string, runId: string, runAttempt: string): RootCacheKeys {
  return { key: `${prefix}-${runId}-${runAttempt}`, restoreKeys: [`${prefix}-`] };
}

/**
 * What goes into an entry. Locks never do (a lock restored on another host is never taken over), nor archives
 * (exports are files to upload, not state). The live GitHub metadata (`metadata/`) does, with its capture state
 * (`state/metadata/`): the ETags are only worth keeping beside the tree they were written with, and a warm root then
 * spends a quiet day on 304s (docs/METADATA_FORMAT.md "Where it lives"). The list is also the entry's version, so it
 * never depends on the disk (a changed list misses the older entries once).
 */
export function rootCachePaths(root: string): string[] {
  return [join(root, 'immutable'), join(root, 'snapshots'), join(root, 'metadata'), join(root, 'logs'), join(root, 'state', '*'), `!${join(root, 'state', 'locks')}`];
}

function serviceMissing(): string | undefined {
  if (!process.env.ACTIONS_RUNTIME_TOKEN || !cache.isFeatureAvailable()) {
    return 'the Actions cache service is not available (ACTIONS_RUNTIME_TOKEN / ACTIONS_RESULTS_URL unset)';
  }
  return undefined;
}

export async function restoreRoot(root: string, keys: RootCacheKeys): Promise<RestoreOutcome> {
  const missing = serviceMissing();
  if (missing) return { kind: 'skipped', reason: missing };
  if (existsSync(root) && readdirSync(root).length > 0) return { kind: 'skipped', reason: `${root} already holds files; the cache is restored only into an empty root` };
  try {
    const key = await cache.restoreCache(rootCachePaths(root), keys.key, keys.restoreKeys);
    return key ? { kind: 'restored', key } : { kind: 'miss' };
  } catch (error) {
    return { kind: 'skipped', reason: `could not restore the root from the Actions cache: ${errorMessage(error)}` };
  }
}

export async function saveRoot(root: string, keys: RootCacheKeys): Promise<SaveOutcome> {
  const missing = serviceMissing();
  if (missing) return { kind: 'skipped', reason: missing };
  if (!existsSync(join(root, 'immutable')) && !existsSync(join(root, 'snapshots'))) return { kind: 'skipped', reason: `${root} holds no mirror or snapshot` };
  try {
    // saveCache reports its own failures as warnings and answers -1.
    const id = await cache.saveCache(rootCachePaths(root), keys.key);
    return id === -1 ? { kind: 'failed', reason: 'the cache service did not take the entry (see the warning above)' } : { kind: 'saved', key: keys.key };
  } catch (error) {
    return { kind: 'failed', reason: errorMessage(error) };
  }
}

/** One line for the log and the job summary. */
export function describeRootCache(restore: RestoreOutcome | undefined, save: SaveOutcome | undefined): string {
  const parts: string[] = [];
  if (restore?.kind === 'restored') parts.push(`Working root restored from the Actions cache (\`${restore.key}\`).`);
  else if (restore?.kind === 'miss') parts.push('No Actions cache entry: cold start (repositories hydrate from the store, or clone).');
  else if (restore) parts.push(`Actions cache not restored: ${restore.reason}.`);
  if (save?.kind === 'saved') parts.push(`Saved as \`${save.key}\`.`);
  else if (save) parts.push(`Not saved: ${save.reason}.`);
  return parts.join(' ');
}

/** Log an outcome the way its weight deserves: a failed save is worth a warning, a skip is not. */
export function logRootCache(restore: RestoreOutcome | undefined, save: SaveOutcome | undefined): void {
  const line = describeRootCache(restore, save);
  if (save?.kind === 'failed') core.warning(line);
  else if (line) core.info(line);
}
