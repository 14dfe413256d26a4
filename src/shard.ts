// --shard K/N: a stable slice of the configured repositories, by a hash of each repository's id, so that N jobs
// (an Actions matrix) share an organisation without talking to each other (docs/ARCHITECTURE.md "Many repositories"). Pure.
// A repository's shard depends on its id alone: adding or removing others never moves it.
import { createHash } from 'node:crypto';
import { UsageError } from './errors.ts';

export interface Shard {
  /** 1-based: shard 1 of 4 is "1/4". */
  index: number;
  count: number;
}

export function parseShard(raw: string): Shard {
  const m = /^(\d{1,4})\/(\d{1,4})$/.exec(raw.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) throw new UsageError(`--shard must be K/N with 1 <= K <= N <= 9999, got ${JSON.stringify(raw)}`);
  return { index, count };
}

/** The shard (1..count) a repository id falls in: the first 32 bits of its SHA-256, modulo count. */
export function shardOf(id: string, count: number): number {
  return (createHash('sha256').update(id.toLowerCase()).digest().readUInt32BE(0) % count) + 1;
}

export function inShard<T extends { id: string }>(items: readonly T[], shard: Shard | undefined): T[] {
  return shard ? items.filter((item) => shardOf(item.id, shard.count) === shard.index) : [...items];
}

/** The slice a result was run on (RunResult.shard): which one, and how many repositories were selected before it. */
export interface ShardedRun {
  outcomes: readonly unknown[];
  shard?: Shard & { of: number };
}

/** What an empty slice says instead of "0 repositories ok": there was a selection, and none of it fell here. */
export function emptyShard(result: ShardedRun): string | undefined {
  const { shard } = result;
  if (!shard || result.outcomes.length) return undefined;
  return `shard ${shard.index}/${shard.count} holds none of the ${shard.of} selected repositories (each falls in one slice by a hash of its name); nothing to do`;
}

/** " (shard K/N: n of m repositories)" after a verdict, or nothing without --shard. */
export function shardNote(result: ShardedRun): string {
  const { shard } = result;
  return shard ? ` (shard ${shard.index}/${shard.count}: ${result.outcomes.length} of ${shard.of} repositories)` : '';
}
