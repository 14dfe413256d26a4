// A new mirror under immutable/: built under a temporary name beside its place, renamed into place when complete
// (docs/ARCHITECTURE.md invariant 1; docs/OPERATIONS.md "sync, step by step", step 2).
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { removeTree } from '../fsutil.ts';
import { present } from '../small-fs.ts';
import type { RepoTarget } from '../types.ts';
import type { EngineContext } from './context.ts';
import { firstFetch } from './first-fetch.ts';
import { configureMirror, fetchMirror, type FetchOptions, type FetchResult } from './mirror.ts';

/**
 * What `git init --bare --template=` makes (no sample hooks, description or info/exclude to carry into every
 * snapshot), written directly: one git process less per new mirror. Its config is written next, from our template.
 * Synchronous, as the other small file operations of a new mirror (src/small-fs.ts).
 */
function createBareRepository(dir: string): void {
  mkdirSync(dir);
  for (const sub of ['objects/info', 'objects/pack', 'refs/heads', 'refs/tags']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'HEAD'), 'ref: refs/heads/master\n');
}

/**
 * Create the mirror under a temporary name and rename it into place: a failed init leaves nothing behind. With no
 * snapshot before it there is nothing for the fetch's guards to protect, and it lands the refs directly
 * (first-fetch.ts); a mirror re-created beside snapshots is judged against the newest one as every sync is.
 */
export async function initMirror(ctx: EngineContext, target: RepoTarget, options: FetchOptions = {}): Promise<{ created: boolean; dir: string; fetch: FetchResult | null }> {
  const dir = ctx.layout.mirror(target);
  // An init or in-place restore killed mid-way left a temporary directory beside the mirror: the caller's
  // repoLocked has removed it (recover.ts).
  if (present(dir)) return { created: false, dir, fetch: null };
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = join(dirname(dir), `.tmp-init-${target.name}-${randomBytes(4).toString('hex')}`);
  try {
    createBareRepository(tmp);
    configureMirror(ctx, tmp, target.url);
    const fetch = options.previous ? await fetchMirror(ctx, target, tmp, options) : await firstFetch(ctx, target, tmp, options);
    renameSync(tmp, dir);
    return { created: true, dir, fetch };
  } catch (error) {
    await removeTree(tmp).catch(() => undefined);
    throw error;
  }
}
