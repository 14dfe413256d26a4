// The first fetch of a repository: into a new mirror still under its temporary name, with no snapshot before it
// (docs/OPERATIONS.md "sync, step by step", step 2). Nothing can be lost yet: no mirror ref and no snapshot exists,
// so the guards of a staged fetch (mirror.ts fetchMirror) have nothing to compare with and always pass, and the
// directory becomes the mirror by one rename or is removed (invariant 1 of docs/ARCHITECTURE.md). So the refs land
// where they belong, and what a staged fetch spends three more git processes on (listing the refs, one update-ref
// transaction, symbolic-ref for HEAD) is read from or written to the files directly. Any doubt about them asks git.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rmdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { readPackedRefsFile } from '../git/packed-refs.ts';
import { readRefs } from '../git/repo.ts';
import { stripCredentials } from '../redact.ts';
import { present } from '../small-fs.ts';
import { diffRefs, refKeyFromBytes, STAGING_PREFIX, type RefKey, type RefMap } from '../refs.ts';
import type { RepoTarget } from '../types.ts';
import { throwIfAborted, type EngineContext } from './context.ts';
import { askGitHubRepository, type GitHubIdentity, type GitHubRepositoryAnswer } from './identity.ts';
import { dropStagingRefs, fetchRefspecs, upstreamHeadBranch, upstreamRefspecs, type FetchResult } from './mirror.ts';

const LOOSE_OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})\n$/;

/**
 * Fetch every ref of `target` straight into `dir`, a mirror created a moment ago that nothing else knows of, and
 * leave it as a staged fetch into an empty mirror would: refs packed, HEAD naming upstream's branch, and the same
 * result (every ref added, root commits left to the snapshot to walk).
 */
export async function firstFetch(ctx: EngineContext, target: RepoTarget, dir: string, options: { github?: Promise<GitHubIdentity | null> } = {}): Promise<FetchResult> {
  const stage = `${STAGING_PREFIX}${randomBytes(4).toString('hex')}/`;
  // Asked while git fetches. Its record names the default branch, so an upstream whose HEAD commit is on several
  // branches needs no `ls-remote` to tell which one HEAD is (a GitHub target's; any other asks upstream).
  const github: Promise<GitHubRepositoryAnswer | null> = options.github
    ? options.github.then((identity) => identity && { identity, defaultBranch: null })
    : askGitHubRepository(ctx, target);
  await fetchRefspecs(ctx, target, dir, upstreamRefspecs(ctx, 'refs/*', stage));
  const loose = looseRefs(dir, stage);
  const stagedHead = loose ? loose.head : await stagedHeadFromGit(ctx, dir, stage);
  if (loose) await dropStagedHead(dir, stage, loose.head !== null);
  else await dropStagingRefs(ctx, dir);
  // No ref at all (an empty upstream): no packed-refs either, as a staged fetch that applied nothing leaves it.
  if (loose?.count !== 0) await ctx.git.run(dir, ['pack-refs', '--all', '--prune']);
  const upstream = (loose && (await packedRefsHolding(dir, loose.count))) ?? (await readRefs(ctx.git, dir));
  throwIfAborted(ctx);
  const answer = await github;
  const defaultBranch = answer?.defaultBranch ? branchKey(answer.defaultBranch) : null;
  const branch = await upstreamHeadBranch(ctx, target, dir, { upstream, stagedHead, current: null, defaultBranch });
  // HEAD as `git symbolic-ref` writes it; the directory is not the mirror yet, so no reader can see it half-written.
  if (branch) writeFileSync(join(dir, 'HEAD'), `ref: ${branch}\n`);
  const brought = Object.keys(upstream).length > 0;
  return {
    changes: diffRefs({}, upstream, new Set()),
    refs: upstream,
    source: { url: stripCredentials(target.url), github: answer?.identity ?? null, newRoots: brought ? null : [], identityReset: false },
  };
}

/** The ref key of branch `name` as GitHub's JSON spells it (UTF-8). */
const branchKey = (name: string): RefKey => refKeyFromBytes(Buffer.from(`refs/heads/${name}`, 'utf8'));

/**
 * The loose refs the fetch wrote: how many (outside the staging namespace), and the staged HEAD's commit (null:
 * upstream has no HEAD). Null when anything is not what a fetch into a fresh repository writes (a packed-refs
 * file, reflogs, something other than files and directories under refs/, another staged ref, a staged HEAD that
 * is no object id). Names are not read, only counted: they are bytes (docs/OPERATIONS.md "Ref names"). The reads
 * are synchronous (src/small-fs.ts).
 */
function looseRefs(dir: string, stage: string): { count: number; head: string | null } | null {
  // A packed-refs file, or reflogs (our config writes none), are not what this fetch leaves: git is asked.
  if (present(join(dir, 'packed-refs')) || present(join(dir, 'logs'))) return null;
  const files = filesUnder(join(dir, 'refs'));
  if (!files) return null;
  const stagedHead = join(dir, stage, 'HEAD');
  const staged = files.filter((f) => f.startsWith(join(dir, STAGING_PREFIX)));
  if (staged.some((f) => f !== stagedHead)) return null;
  let head: string | null = null;
  if (staged.length) {
    const text = readFileSync(stagedHead, 'latin1');
    if (!LOOSE_OBJECT_ID.test(text)) return null;
    head = text.slice(0, -1);
  }
  return { count: files.length - staged.length, head };
}

/** Every file below `root`, by readdir alone (no stat per ref); null when it holds anything but files and directories, or cannot be read. */
function filesUnder(root: string): string[] | null {
  let entries;
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch {
    return null;
  }
  const found: string[] = [];
  for (const entry of entries) {
    const path = join(root, entry.name);
    if (entry.isDirectory()) {
      const below = filesUnder(path);
      if (!below) return null;
      found.push(...below);
    } else if (entry.isFile()) found.push(path);
    else return null;
  }
  return found;
}

/**
 * Remove the staging namespace that `looseRefs` found holding nothing but this fetch's staged HEAD (or nothing at
 * all, for an upstream without HEAD): what dropStagingRefs removes, known file by file. Removals stay in the thread
 * pool: they can wait for the file system's journal (src/small-fs.ts).
 */
async function dropStagedHead(dir: string, stage: string, hasHead: boolean): Promise<void> {
  const stageDir = join(dir, stage);
  if (hasHead) await unlink(join(stageDir, 'HEAD'));
  for (const empty of [stageDir, dirname(stageDir)]) {
    await rmdir(empty).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
}

async function stagedHeadFromGit(ctx: EngineContext, dir: string, stage: string): Promise<string | null> {
  return (await readRefs(ctx.git, dir, [`${stage}HEAD`]))[`${stage}HEAD`] ?? null;
}

/** The refs `git pack-refs` just wrote, when packed-refs holds exactly the `count` loose refs it packed. */
async function packedRefsHolding(dir: string, count: number): Promise<RefMap | null> {
  const refs = await readPackedRefsFile(dir);
  return refs && Object.keys(refs).length === count ? refs : null;
}
