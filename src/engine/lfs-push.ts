// restore --push of a snapshot with LFS objects: they go to the new repository's LFS endpoint before its refs do, so
// the new repository never has a pointer without its content (docs/RESTORE_RUNBOOK.md "Push to a new repository").
import { BackupError, errorMessage } from '../errors.ts';
import { lfsEndpointOf } from '../lfs.ts';
import { stripCredentials } from '../redact.ts';
import type { RepoTarget } from '../types.ts';
import type { EngineContext } from './context.ts';
import { blockLfsLogs, countLfsObjects, withoutLfsLog } from './lfs.ts';
import { explainRemoteFailure } from './remote-failure.ts';

export interface LfsPushPlan {
  /** The snapshot's LFS objects: all of them are offered; the server takes those it lacks. */
  objects: number;
  bytes: number;
  /** GitHub's LFS endpoint of the remote (credentials stripped). */
  endpoint: string;
}

/**
 * What pushing `snapshotDir`'s LFS objects to `remote` means: null when the snapshot has none. A remote that is
 * not on the GitHub server has no endpoint we trust to send them to, so the restore refuses rather than pushing
 * refs whose LFS content would be missing.
 */
export async function planLfsPush(ctx: EngineContext, target: RepoTarget, snapshotDir: string, remote: string): Promise<LfsPushPlan | null> {
  const held = await countLfsObjects(snapshotDir);
  if (held.objects === 0) return null;
  const endpoint = lfsEndpointOf({ ...target, url: remote }, ctx.serverUrl);
  if (!endpoint) {
    throw new BackupError(
      `${target.id}: the snapshot holds ${held.objects} LFS object(s), and ${stripCredentials(remote)} is not on ${ctx.serverUrl}: ` +
        'LFS objects are pushed only to that server\'s LFS endpoint. Push to a repository there, or restore --to a directory and push its LFS objects yourself (git lfs push --all).',
    );
  }
  return { ...held, endpoint: stripCredentials(endpoint) };
}

/**
 * Upload every LFS object of the snapshot through `repo`, a scratch repository that borrows the snapshot's objects:
 * git-lfs reads them where the snapshot keeps them (its lfs/objects is a link) and writes its scratch in the
 * repository's own lfs/. The endpoint is forced, as for the fetch, so no `.lfsconfig` in the repository can send the
 * objects, or the token, elsewhere.
 */
export async function pushLfsObjects(ctx: EngineContext, target: RepoTarget, repo: string, plan: LfsPushPlan, remote: string): Promise<void> {
  await blockLfsLogs(repo);
  try {
    await ctx.git.run(repo, ['-c', `lfs.url=${plan.endpoint}`, '-c', 'lfs.locksverify=false', 'lfs', 'push', '--all', remote], { auth: true });
  } catch (error) {
    if (/'lfs' is not a git command/.test(errorMessage(error))) {
      throw new BackupError(`${target.id}: the snapshot holds ${plan.objects} LFS object(s) and git-lfs is not installed: install git-lfs, then restore again`);
    }
    throw explainRemoteFailure(ctx, { ...target, url: stripCredentials(remote) }, new BackupError(withoutLfsLog(errorMessage(error))));
  }
  ctx.logger.log('info', `${target.id}: LFS objects pushed to ${plan.endpoint}`, { objects: plan.objects, bytes: plan.bytes });
}
