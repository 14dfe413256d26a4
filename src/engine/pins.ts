// state/pins/<owner>__<repo>.json: snapshots kept out of retention until unpinned, each with its reason
// (docs/OPERATIONS.md "Pinned snapshots"). Kept beside the snapshots, not in them: a snapshot never changes.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { BackupError, NotFoundError, UsageError } from '../errors.ts';
import { isSnapshotName } from '../naming.ts';
import type { RepoTarget } from '../types.ts';
import type { EngineContext } from './context.ts';

export const MAX_PIN_REASON = 500;

const pinSchema = z.object({ reason: z.string().min(1).max(MAX_PIN_REASON), pinnedAt: z.iso.datetime() }).strict();
const pinsSchema = z.object({ repository: z.string(), pins: z.record(z.string().refine(isSnapshotName), pinSchema) }).strict();

export type Pin = z.infer<typeof pinSchema>;
export type Pins = ReadonlyMap<string, Pin>;

function pinsFile(ctx: EngineContext, target: RepoTarget): string {
  // Validates owner and name before they become a path.
  ctx.layout.snapshotParent(target);
  return join(ctx.layout.stateDir, 'pins', `${target.owner}__${target.name}.json`);
}

/** A damaged pins file fails loudly: treating it as "no pins" would hand pinned snapshots to retention. */
export async function readPins(ctx: EngineContext, target: RepoTarget): Promise<Pins> {
  const file = pinsFile(ctx, target);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new BackupError(`${file}: cannot read the pinned snapshots (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
  let parsed;
  try {
    parsed = pinsSchema.safeParse(JSON.parse(text));
  } catch (error) {
    throw new BackupError(`${file}: the pinned snapshots are not valid JSON (${(error as Error).message}); fix or remove it by hand`);
  }
  if (!parsed.success) throw new BackupError(`${file}: the pinned snapshots are invalid at ${parsed.error.issues[0]!.path.join('.')}; fix or remove it by hand`);
  return new Map(Object.entries(parsed.data.pins));
}

async function writePins(ctx: EngineContext, target: RepoTarget, pins: Pins): Promise<void> {
  const file = pinsFile(ctx, target);
  await mkdir(dirname(file), { recursive: true });
  const body = pinsSchema.parse({ repository: target.id, pins: Object.fromEntries([...pins].sort(([a], [b]) => (a < b ? -1 : 1))) });
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, `${JSON.stringify(body, null, 2)}\n`);
  await rename(tmp, file);
}

export function assertPinReason(reason: string | undefined): string {
  const trimmed = reason?.trim() ?? '';
  if (!trimmed) throw new UsageError('a pinned snapshot needs a reason', 'pin-reason');
  if (trimmed.length > MAX_PIN_REASON) throw new UsageError(`a pin reason is at most ${MAX_PIN_REASON} characters, got ${trimmed.length}`);
  if (/[\p{Cc}]/u.test(trimmed)) throw new UsageError('a pin reason is one line of text without control characters');
  return trimmed;
}

/** Call under the repository lock. */
export async function pinSnapshot(ctx: EngineContext, target: RepoTarget, name: string, reason: string): Promise<Pin> {
  const pins = new Map(await readPins(ctx, target));
  const pin: Pin = { reason: assertPinReason(reason), pinnedAt: ctx.clock().toISOString() };
  pins.set(name, pin);
  await writePins(ctx, target, pins);
  ctx.logger.log('info', `pinned ${target.id} ${name}`, { reason: pin.reason });
  return pin;
}

/** Call under the repository lock. Hands the snapshot back to retention. */
export async function unpinSnapshot(ctx: EngineContext, target: RepoTarget, name: string): Promise<Pin> {
  const pins = new Map(await readPins(ctx, target));
  const pin = pins.get(name);
  if (!pin) throw new NotFoundError(`${target.id}: ${name} is not pinned${pins.size ? ` (pinned: ${[...pins.keys()].join(', ')})` : ''}`);
  pins.delete(name);
  await writePins(ctx, target, pins);
  ctx.logger.log('info', `unpinned ${target.id} ${name}: retention applies to it again`, { reason: pin.reason });
  return pin;
}
