// A sync with nothing new costs one `git ls-remote` (docs/OPERATIONS.md "sync, step by step", step 3): when the
// mirror's refs are byte for byte the ones the newest snapshot copied, and upstream lists exactly those refs and that
// HEAD from the same URL and the same GitHub repository, there is nothing to fetch, judge or snapshot.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../errors.ts';
import { lsRemote } from '../git/repo.ts';
import { refsAsRecorded, type SnapshotMetadata } from '../metadata.ts';
import { stripCredentials } from '../redact.ts';
import { isBackedUpRef, sameRefs, type RefMap } from '../refs.ts';
import type { RepoTarget } from '../types.ts';
import { throwIfAborted, type EngineContext } from './context.ts';
import type { GitHubIdentity } from './identity.ts';

/** The files that hold a files-backend repository's refs once they are all packed. */
const REF_FILES = ['HEAD', 'packed-refs'];

/**
 * The mirror still has exactly the newest snapshot's refs: its HEAD and packed-refs have the checksums that
 * snapshot recorded for its copies, and no loose ref exists beside them (any file under refs/: a ref written
 * since, a killed run's staging ref, another ref storage). No git runs, and no ref name is read. The reads are
 * synchronous (src/small-fs.ts): a no-op sync is this check and one ls-remote.
 */
function mirrorHasSnapshotRefs(mirror: string, previous: SnapshotMetadata): boolean {
  for (const name of REF_FILES) {
    const recorded = previous.files[name];
    if (!recorded) return false;
    let bytes: Buffer;
    try {
      // Read whole (packed-refs is about 100 bytes a ref): one read instead of a stream's several.
      bytes = readFileSync(join(mirror, name));
    } catch {
      return false;
    }
    if (bytes.length !== recorded.size || createHash('sha256').update(bytes).digest('hex') !== recorded.sha256) return false;
  }
  return holdsOnlyDirectories(join(mirror, 'refs'));
}

/** Whether `dir` holds directories alone, all the way down; false when anything in it cannot be read. */
function holdsOnlyDirectories(dir: string): boolean {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  return entries.every((entry) => entry.isDirectory() && holdsOnlyDirectories(join(dir, entry.name)));
}

const backedUp = (refs: RefMap, includePullRefs: boolean): RefMap =>
  Object.fromEntries(Object.entries(refs).filter(([name]) => isBackedUpRef(name, includePullRefs)));

/**
 * True when a sync of `mirror` has nothing to do against `previous` (the newest trusted snapshot). Any doubt
 * (an ls-remote that fails, a GitHub answer naming another id or name, a moved HEAD) answers false: the full
 * sync then fetches, judges and reports as always.
 */
export async function upstreamUnchanged(
  ctx: EngineContext,
  target: RepoTarget,
  mirror: string,
  previous: SnapshotMetadata,
  github: Promise<GitHubIdentity | null>,
): Promise<boolean> {
  if (previous.upstream?.url !== stripCredentials(target.url)) return false;
  if (!mirrorHasSnapshotRefs(mirror, previous)) return false;
  let listed;
  try {
    listed = await lsRemote(ctx.git, mirror, target.url);
  } catch (error) {
    throwIfAborted(ctx);
    // The fetch that follows retries, or fails with the reason worded for the user.
    ctx.logger.log('info', `${target.id}: ls-remote failed, fetching instead`, { error: errorMessage(error) });
    return false;
  }
  if (listed.headRef !== previous.headRef) return false;
  if (!sameRefs(refsAsRecorded(backedUp(listed.refs, ctx.settings.includePullRefs), previous.format), previous.refs)) return false;
  const answered = await github;
  const recorded = previous.upstream.github;
  return answered === null || (recorded !== undefined && answered.id === recorded.id && answered.fullName === recorded.fullName);
}
