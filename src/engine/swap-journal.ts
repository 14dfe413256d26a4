// The swap of an in-place restore (live mirror aside, rebuilt mirror in) is two renames; a crash between them left
// no mirror, and the next sync deleted the complete rebuilt one as "incomplete". A journal under state/ records the
// swap before its first rename, so the next writer of the repository finishes it (docs/OPERATIONS.md "Stopping and
// crashes"). The rebuilt mirror was verified before the journal was written: finishing means completing the swap.
import { mkdir, readFile, rename, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { BackupError, errorMessage } from '../errors.ts';
import { exists, fsyncPath, isEmptyDir } from '../fsutil.ts';
import type { RepoTarget } from '../types.ts';
import type { EngineContext } from './context.ts';

const Journal = z.object({
  format: z.literal(1),
  repository: z.string(),
  /** Names beside the mirror (never paths: the root may be mounted elsewhere next time). */
  built: z.string(),
  kept: z.string().nullable(),
  startedAt: z.string(),
});
type Journal = z.infer<typeof Journal>;

const MAX_JOURNAL_BYTES = 64 * 1024;

/** Names this repository's swap may use; anything else in a journal is refused, not followed. */
function checkNames(target: RepoTarget, journal: Journal): void {
  const name = target.name.replace(/[.]/g, '\\.');
  const built = new RegExp(`^\\.tmp-restore-${name}-[0-9a-f]{8}$`);
  const kept = new RegExp(`^${name}\\.git\\.replaced-[0-9A-Za-z-]+$`);
  if (journal.repository !== target.id || !built.test(journal.built) || (journal.kept !== null && !kept.test(journal.kept))) {
    throw new BackupError(`swap journal for ${target.id} names unexpected paths (${JSON.stringify(journal)}); nothing was moved: inspect and remove it by hand`);
  }
}

async function writeJournal(path: string, journal: Journal): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.tmp`;
  await writeFile(temp, `${JSON.stringify(journal)}\n`, { mode: 0o644 });
  await fsyncPath(temp);
  await rename(temp, path);
  await fsyncPath(dirname(path));
}

async function removeJournal(path: string): Promise<void> {
  await unlink(path);
  await fsyncPath(dirname(path));
}

/**
 * Move the verified `built` repository into the live mirror's place under a journal; an existing mirror is moved to
 * `keptPath` and kept (invariant 7). Returns the kept path, or null when there was no mirror to keep.
 */
export async function journaledSwap(ctx: EngineContext, target: RepoTarget, built: string, keptPath: string): Promise<string | null> {
  const mirror = ctx.layout.mirror(target);
  const parent = dirname(mirror);
  const keep = (await exists(mirror)) && !(await isEmptyDir(mirror));
  const journal: Journal = { format: 1, repository: target.id, built: basename(built), kept: keep ? basename(keptPath) : null, startedAt: ctx.clock().toISOString() };
  checkNames(target, journal);
  const path = ctx.layout.swapJournal(target);
  await writeJournal(path, journal);
  await completeSwap(parent, mirror, journal);
  await removeJournal(path);
  return keep ? keptPath : null;
}

/** The swap's steps, each done only if it is not done yet: running it again after a crash finishes it. */
async function completeSwap(parent: string, mirror: string, journal: Journal): Promise<'completed' | 'rolled back' | 'already done'> {
  const built = join(parent, journal.built);
  const kept = journal.kept === null ? null : join(parent, journal.kept);
  if (await exists(built)) {
    if (await exists(mirror)) {
      if (kept && !(await exists(kept))) await rename(mirror, kept);
      else if (await isEmptyDir(mirror)) await rmdir(mirror);
      else throw new BackupError(`cannot finish the swap into ${mirror}: both it and ${kept ?? 'no kept copy'} exist; nothing was moved`);
    }
    await rename(built, mirror);
    await fsyncPath(parent);
    return 'completed';
  }
  if (await exists(mirror)) return 'already done';
  // The rebuilt mirror is gone and so is the live one: put the previous mirror back rather than have none.
  if (kept && (await exists(kept))) {
    await rename(kept, mirror);
    await fsyncPath(parent);
    return 'rolled back';
  }
  return 'already done';
}

/** Finish a swap a crashed run left journaled. Call with the repository lock held, before anything else. */
export async function finishInterruptedSwap(ctx: EngineContext, target: RepoTarget): Promise<void> {
  const path = ctx.layout.swapJournal(target);
  let text: string;
  try {
    // A journal is a few hundred bytes: anything much bigger is not ours, and is not read whole.
    if ((await stat(path)).size > MAX_JOURNAL_BYTES) throw new BackupError(`swap journal ${path} is over ${MAX_JOURNAL_BYTES} bytes; nothing was moved: inspect and remove it by hand`);
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  let journal: Journal;
  try {
    journal = Journal.parse(JSON.parse(text));
  } catch (error) {
    throw new BackupError(`swap journal ${path} is unreadable (${errorMessage(error)}); nothing was moved: inspect and remove it by hand`);
  }
  checkNames(target, journal);
  const mirror = ctx.layout.mirror(target);
  const outcome = await completeSwap(dirname(mirror), mirror, journal);
  await removeJournal(path);
  ctx.logger.log('warn', `an in-place restore of ${target.id} was interrupted mid-swap (started ${journal.startedAt}): ${outcome}`, {
    built: journal.built,
    kept: journal.kept,
  });
}
