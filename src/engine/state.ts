// state/repos/<owner>/<repo>.json: the last sync's outcome, which status and health read.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { readTextCapped } from '../bounded-read.ts';
import { BackupError } from '../errors.ts';
import type { RepoTarget } from '../types.ts';
import type { EngineContext } from './context.ts';

const repoStateSchema = z.object({
  repository: z.string(),
  sourceUrl: z.string(),
  lastSync: z
    .object({
      at: z.string(),
      ok: z.boolean(),
      error: z.string().optional(),
      changed: z.number().int().optional(),
      snapshot: z.string().nullable().optional(),
      /** Upstream has nothing to back up (a wiki GitHub does not have): why. Not a failure. */
      absent: z.string().optional(),
    })
    .nullable(),
  lastSuccess: z.string().nullable(),
});

export type RepoState = z.infer<typeof repoStateSchema>;

// A state file is a few hundred bytes; anything near this is damage (docs/OPERATIONS.md, "Size limits").
export const MAX_STATE_BYTES = 1024 * 1024;

export async function readRepoState(ctx: EngineContext, target: RepoTarget, maxBytes = MAX_STATE_BYTES): Promise<RepoState | null> {
  try {
    const parsed = repoStateSchema.safeParse(JSON.parse(await readTextCapped(ctx.layout.repoState(target), maxBytes, 'the state file')));
    return parsed.success ? parsed.data : null;
  } catch (error) {
    // Unreadable state means "no recorded sync": the next sync rewrites it. An oversized one is worth a warning.
    if (error instanceof BackupError) ctx.logger.log('warn', error.message);
    return null;
  }
}

export async function recordSync(
  ctx: EngineContext,
  target: RepoTarget,
  outcome: { ok: boolean; error?: string; changed?: number; snapshot?: string | null; absent?: string },
): Promise<void> {
  const at = ctx.clock().toISOString();
  // Only a failure carries the last success over from the file: a success is its own (one read less a sync).
  const lastSuccess = outcome.ok ? at : ((await readRepoState(ctx, target))?.lastSuccess ?? null);
  const state: RepoState = {
    repository: target.id,
    sourceUrl: target.url,
    lastSync: { at, ...outcome, ...(outcome.error ? { error: ctx.redactor.redact(outcome.error) } : {}) },
    lastSuccess,
  };
  const file = ctx.layout.repoState(target);
  // Written beside and renamed over the old one; the small writes are synchronous, the rename (which frees the old
  // file) is not (src/small-fs.ts).
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, `${JSON.stringify(repoStateSchema.parse(state), null, 2)}\n`);
  await rename(tmp, file);
}
