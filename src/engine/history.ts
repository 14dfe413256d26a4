// diff and find (docs/OPERATIONS.md "Finding lost work"): recorded refs first, git only where reachability must be
// computed, and git only in a repository this tool trusts (the mirror, or a snapshot whose structure is safe).
// Upstream's refs are asked with ls-remote from the mirror, credentials as for a fetch; nothing is fetched.
import { join } from 'node:path';
import { BackupError, UsageError } from '../errors.ts';
import { exists } from '../fsutil.ts';
import { isAncestor, lsRemote, missingObjects, readRefs } from '../git/repo.ts';
import { readMetadata } from '../metadata.ts';
import { classifyRefs, parseFindQuery, refMatches, type FindQuery } from '../ref-query.ts';
import { isBackedUpRef, isStagingRef, movedRefs, type RefMap } from '../refs.ts';
import type { DiffRepoResult, FindRepoResult, FindSighting, RepoTarget } from '../types.ts';
import type { EngineContext } from './context.ts';
import { whileReading } from './readers.ts';
import { explainRemoteFailure } from './remote-failure.ts';
import { listSnapshotNames } from './snapshot.ts';
import { checkSnapshotStructure } from './structure.ts';
import { resolveSnapshotName } from './verify.ts';

export const MIRROR = 'mirror';
export const UPSTREAM = 'upstream';

interface Side {
  label: string;
  refs: RefMap;
  /** Where git may ask about ancestry (null: not safe to let git read it). */
  gitDir: string | null;
  /** Refs read from upstream: their commits may not be in gitDir yet. */
  remote?: boolean;
}

/** Upstream's refs now, as far as we back them up (pull refs only when configured). */
async function upstreamSide(ctx: EngineContext, target: RepoTarget): Promise<Side> {
  const mirror = ctx.layout.mirror(target);
  if (!(await exists(mirror))) throw new BackupError(`diff ${target.id} ${UPSTREAM}: there is no mirror to ask from; run init or sync first`);
  let refs: RefMap;
  try {
    refs = (await lsRemote(ctx.git, mirror, target.url)).refs;
  } catch (error) {
    throw explainRemoteFailure(ctx, target, error);
  }
  const backedUp = Object.fromEntries(Object.entries(refs).filter(([ref]) => isBackedUpRef(ref, ctx.settings.includePullRefs)));
  return { label: UPSTREAM, refs: backedUp, gitDir: mirror, remote: true };
}

async function gitReadable(dir: string): Promise<boolean> {
  const structure = await checkSnapshotStructure(dir);
  return structure.unsafe.length === 0 && structure.foreignConfig.length === 0;
}

async function side(ctx: EngineContext, target: RepoTarget, which: string): Promise<Side> {
  if (which === UPSTREAM) return upstreamSide(ctx, target);
  if (which === MIRROR) {
    const mirror = ctx.layout.mirror(target);
    const refs = Object.fromEntries(Object.entries(await readRefs(ctx.git, mirror)).filter(([ref]) => !isStagingRef(ref)));
    return { label: MIRROR, refs, gitDir: mirror };
  }
  const name = await resolveSnapshotName(ctx, target, which);
  const dir = join(ctx.layout.snapshotParent(target), name);
  const metadata = await readMetadata(dir);
  return { label: name, refs: metadata.refs, gitDir: (await gitReadable(dir)) ? dir : null };
}

export async function diffRepo(ctx: EngineContext, target: RepoTarget, from: string, to: string): Promise<DiffRepoResult> {
  const before = await side(ctx, target, from);
  const after = await side(ctx, target, to);
  // Ancestry is asked where the newer commit lives: every ancestor of it is there, so a missing old commit is no ancestor.
  const moves = movedRefs(before.refs, after.refs);
  if (moves.length && !after.gitDir) throw new BackupError(`diff ${target.id}: git must not read ${after.label} (run verify on it); moved refs cannot be classified`);
  const fastForwarded = new Set<string>();
  const unknown = new Set<string>();
  const ask = async () => {
    // Upstream may have moved to commits the mirror has not fetched: those cannot be asked about.
    const missing = after.remote ? await missingObjects(ctx.git, after.gitDir!, moves.map((m) => m.to)) : new Set<string>();
    for (const move of moves) {
      if (missing.has(move.to)) unknown.add(move.ref);
      else if (await isAncestor(ctx.git, after.gitDir!, move.from, move.to)) fastForwarded.add(move.ref);
    }
  };
  // A snapshot being asked is registered as read, so prune waits for it.
  if (moves.length) await (after.gitDir === ctx.layout.mirror(target) ? ask() : whileReading(ctx, target, after.label, 'diff', ask));
  return { repo: target.id, from: before.label, to: after.label, ...classifyRefs(before.refs, after.refs, fastForwarded, unknown) };
}

/** Refs of one snapshot from which `commit` is reachable: one git call, in the snapshot itself. */
async function refsContaining(ctx: EngineContext, dir: string, commit: string): Promise<string[] | null> {
  try {
    const out = await ctx.git.run(dir, ['for-each-ref', '--contains', commit, '--format=%(refname)']);
    return out.split('\n').filter(Boolean);
  } catch {
    // Not in this snapshot (unknown or ambiguous object): nothing reaches it here.
    return null;
  }
}

export async function findRepo(ctx: EngineContext, target: RepoTarget, raw: string): Promise<FindRepoResult> {
  let query: FindQuery;
  try {
    query = parseFindQuery(raw);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const sightings: FindSighting[] = [];
  const skipped: string[] = [];
  for (const name of await listSnapshotNames(ctx, target)) {
    const dir = join(ctx.layout.snapshotParent(target), name);
    let metadata;
    try {
      metadata = await readMetadata(dir);
    } catch {
      skipped.push(name);
      continue;
    }
    const refs: FindSighting['refs'] = [];
    if (query.kind !== 'commit') {
      for (const [ref, oid] of Object.entries(metadata.refs)) if (refMatches(ref, query)) refs.push({ ref, oid, match: 'name' });
    } else {
      const { prefix } = query;
      const pointing = Object.entries(metadata.refs).filter(([, oid]) => oid.startsWith(prefix));
      for (const [ref, oid] of pointing) refs.push({ ref, oid, match: 'points-at' });
      if (!(await gitReadable(dir))) {
        skipped.push(name);
      } else {
        const containing = await whileReading(ctx, target, name, 'find', () => refsContaining(ctx, dir, prefix));
        for (const ref of containing ?? []) {
          if (!pointing.some(([r]) => r === ref) && metadata.refs[ref]) refs.push({ ref, oid: metadata.refs[ref], match: 'contains' });
        }
      }
    }
    if (refs.length) sightings.push({ snapshot: name, createdAt: metadata.createdAt, refs: refs.sort((a, b) => (a.ref < b.ref ? -1 : 1)) });
  }
  if (skipped.length) ctx.logger.log('warn', `find ${target.id}: not searched (unreadable or unsafe for git; run verify): ${skipped.join(', ')}`);
  return {
    repo: target.id,
    query: raw,
    kind: query.kind,
    sightings,
    first: sightings[0]?.snapshot ?? null,
    last: sightings.at(-1)?.snapshot ?? null,
    ...(skipped.length ? { skipped } : {}),
  };
}
