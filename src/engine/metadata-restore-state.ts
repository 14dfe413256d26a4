// state/metadata-restore/<owner>/<name>.jsonl: what restore --metadata-to has created in one target repository, step
// by step (src/github-metadata/restore-plan.ts), so a second run or a run after a kill creates nothing twice
// (docs/RESTORE_RUNBOOK.md "Restoring issues, pull requests and releases"). A journal: one JSON line per event,
// appended and fsynced before the next request, so recording a record costs the same however many came before.
// It holds keys, numbers and ids only: never a token, never a body.
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { readTextCapped } from '../bounded-read.ts';
import { BackupError, UsageError } from '../errors.ts';
import { fsyncPath } from '../fsutil.ts';

// 100,000 records at ~60 bytes a line is 6 MB: anything near this is damage (docs/OPERATIONS.md, "Size limits").
const MAX_JOURNAL_BYTES = 64 * 1024 * 1024;
const FORMAT = 'github-private-backup-metadata-restore';

const headerLine = z.object({ format: z.literal(FORMAT), version: z.literal(1), source: z.string(), target: z.string() }).strict();
/** About to send the request of step `pending`: if no `done` line follows, the next run looks for its record first. */
const pendingLine = z.object({ pending: z.string() }).strict();
/** Step `done` created (or found) the record with this number or id. */
const doneLine = z.object({ done: z.string(), id: z.number().int() }).strict();

export interface MetadataRestoreJournal {
  readonly file: string;
  /** Step key -> the new record's number or id. */
  readonly done: ReadonlyMap<string, number>;
  /** The step whose request may have reached GitHub without its answer reaching us. */
  readonly pending: string | null;
  markPending(key: string): Promise<void>;
  record(key: string, id: number): Promise<void>;
}

async function appendDurably(file: string, value: unknown): Promise<void> {
  await appendFile(file, `${JSON.stringify(value)}\n`, { mode: 0o600 });
  await fsyncPath(file);
}

function replay(file: string, text: string): { header: z.infer<typeof headerLine>; done: Map<string, number>; pending: string | null } {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const damaged = (n: number) =>
    new BackupError(`${file} is damaged at line ${n}: it records what an earlier restore created; repair it, or remove it to start over (records already in the target would then be refused as not restored here)`);
  const parsedAt = (n: number): unknown => {
    try {
      return JSON.parse(lines[n]!);
    } catch {
      return undefined;
    }
  };
  const header = headerLine.safeParse(parsedAt(0));
  if (!header.success) throw damaged(1);
  const done = new Map<string, number>();
  let pending: string | null = null;
  for (let n = 1; n < lines.length; n++) {
    const value = parsedAt(n);
    const isDone = doneLine.safeParse(value);
    const isPending = pendingLine.safeParse(value);
    if (isDone.success) {
      done.set(isDone.data.done, isDone.data.id);
      if (pending === isDone.data.done) pending = null;
    } else if (isPending.success) pending = isPending.data.pending;
    // A line cut short by a crash can only be the last one: the next run appends after it on a line of its own.
    else if (n !== lines.length - 1) throw damaged(n + 1);
  }
  return { header: header.data, done, pending };
}

/** What the journal at `file` says was done, without writing anything (a dry run); null when there is none. */
export async function readJournal(file: string, source: string, target: string): Promise<{ done: Map<string, number>; pending: string | null; complete: boolean } | null> {
  let text: string;
  try {
    text = await readTextCapped(file, MAX_JOURNAL_BYTES, 'the metadata restore journal');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  if (text === '') return null;
  const replayed = replay(file, text);
  if (replayed.header.source.toLowerCase() !== source.toLowerCase()) {
    throw new UsageError(`${target} already holds records restored from ${replayed.header.source} (${file}); restore ${source} into another repository`);
  }
  return { done: replayed.done, pending: replayed.pending, complete: text.endsWith('\n') };
}

/** The journal of restores from `source` into `target`, created when there is none. */
export async function openJournal(file: string, source: string, target: string): Promise<MetadataRestoreJournal> {
  const existing = await readJournal(file, source, target);
  const done = existing?.done ?? new Map<string, number>();
  let pending = existing?.pending ?? null;
  if (!existing) {
    await mkdir(dirname(file), { recursive: true });
    await appendDurably(file, { format: FORMAT, version: 1, source, target });
    await fsyncPath(dirname(file));
  } else if (!existing.complete) {
    // Whatever a crash cut short ends here, so the next line starts on a line of its own.
    await appendFile(file, '\n');
  }
  const journal: MetadataRestoreJournal = {
    file,
    done,
    get pending() {
      return pending;
    },
    async markPending(key) {
      await appendDurably(file, { pending: key });
      pending = key;
    },
    async record(key, id) {
      await appendDurably(file, { done: key, id });
      done.set(key, id);
      if (pending === key) pending = null;
    },
  };
  return journal;
}
