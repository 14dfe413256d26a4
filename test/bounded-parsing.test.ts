// Bounded parsing: a tampered snapshot.json or state file is refused over its size cap before it is read into
// memory, verify's report of a forged snapshot stays bounded ("and 49,900 more"), and a snapshot copied under
// another valid name does not pass verify. Real snapshots from real git; the caps are lowered through the read
// functions' own parameter instead of writing tens of megabytes.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readTextCapped } from '../src/bounded-read.ts';
import { createContext } from '../src/engine/context.ts';
import { readRepoState } from '../src/engine/state.ts';
import { BackupError, ExitCode } from '../src/errors.ts';
import { MAX_METADATA_BYTES, readMetadata, type SnapshotMetadata } from '../src/metadata.ts';
import { snapshotName } from '../src/naming.ts';
import { createBackup, createUpstream, okValue, type TestBackup } from './helpers/git-fixtures.ts';
import type { SyncRepoResult, VerifyRepoResult } from '../src/types.ts';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

async function backupWithSnapshot(): Promise<{ b: TestBackup; dir: string; name: string }> {
  const u = createUpstream();
  const b = createBackup([u]);
  cleanups.push(() => {
    spawnSync('chmod', ['-R', 'u+w', u.tmp, dirname(b.root)]);
    u.cleanup();
  });
  const synced = okValue<SyncRepoResult>(await b.engine.sync());
  const { name, path } = synced.snapshot!;
  return { b, dir: path, name };
}

/** Rewrite a (read-only) snapshot's snapshot.json. */
function tamper(dir: string, change: (m: SnapshotMetadata) => SnapshotMetadata): number {
  const file = join(dir, 'snapshot.json');
  const metadata = JSON.parse(readFileSync(file, 'utf8')) as SnapshotMetadata;
  chmodSync(dir, 0o755);
  chmodSync(file, 0o644);
  const text = `${JSON.stringify(change(metadata), null, 2)}\n`;
  writeFileSync(file, text);
  return Buffer.byteLength(text);
}

/** 50,000 forged file entries: a valid snapshot.json of a few MB. */
const FORGED = 50_000;
function forgeFiles(m: SnapshotMetadata): SnapshotMetadata {
  const files = { ...m.files };
  for (let i = 0; i < FORGED; i++) files[`objects/forged/${String(i).padStart(6, '0')}`] = { sha256: '0'.repeat(64), size: 1 };
  return { ...m, files };
}

describe('size caps on metadata files', () => {
  it('refuses a snapshot.json over the cap before reading it, with a clear error', async () => {
    const { dir } = await backupWithSnapshot();
    const size = tamper(dir, forgeFiles);
    expect(size).toBeGreaterThan(3_000_000);
    const cap = 1024 * 1024;
    const error = (await readMetadata(dir, cap).catch((e: unknown) => e)) as BackupError;
    expect(error).toBeInstanceOf(BackupError);
    expect(error.message).toBe(
      `${join(dir, 'snapshot.json')}: snapshot metadata is ${size.toLocaleString('en-US')} bytes, over the 1,048,576-byte limit: it is damaged or was tampered with`,
    );
    // Under the default cap the same file is read (it is valid, only large).
    expect(Object.keys((await readMetadata(dir)).files).length).toBeGreaterThan(FORGED);
    expect(MAX_METADATA_BYTES).toBeGreaterThan(size);
  });

  it('reads a file at exactly the cap and refuses one byte more', async () => {
    const { dir } = await backupWithSnapshot();
    const file = join(dir, 'snapshot.json');
    const size = Buffer.byteLength(readFileSync(file));
    expect(await readTextCapped(file, size, 'snapshot metadata')).toBe(readFileSync(file, 'utf8'));
    await expect(readTextCapped(file, size - 1, 'snapshot metadata')).rejects.toThrow(/over the .*-byte limit/);
  });

  it('a state file over its cap is not parsed: reading it warns and reports no recorded sync', async () => {
    const { b } = await backupWithSnapshot();
    const stateFile = join(b.root, 'state', 'repos', 'acme', 'widgets.json');
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { lastSync: { error?: string } };
    writeFileSync(stateFile, JSON.stringify({ ...state, lastSync: { ...state.lastSync, error: 'x'.repeat(2 * 1024 * 1024) } }));
    const warnings: string[] = [];
    const ctx = createContext({ settings: b.settings, logger: { log: (level, line) => void (level === 'warn' && warnings.push(line)) } });
    expect(await readRepoState(ctx, { owner: 'acme', name: 'widgets', id: 'acme/widgets', url: '' })).toBeNull();
    expect(warnings.join('\n')).toMatch(/widgets\.json: the state file is [\d,]+ bytes, over the 1,048,576-byte limit/);
  });
});

describe('verify of a tampered snapshot', () => {
  it('keeps its report bounded: the first 100 problems and a count of the rest, in the message and the JSON', async () => {
    const { b, name } = await backupWithSnapshot();
    tamper(join(b.root, 'snapshots', 'acme', 'widgets', name), forgeFiles);
    const run = await b.engine.verify({ snapshot: name });
    expect(run.exitCode).toBe(ExitCode.FAILURE);
    const outcome = run.outcomes[0]!;
    if (outcome.ok) throw new Error('verify passed a forged snapshot');
    // Every forged entry is a missing file; only ten are spelled out in the message.
    expect(outcome.error).toContain('objects/forged/000000: missing file');
    expect(outcome.error).toMatch(new RegExp(`and ${(FORGED - 10).toLocaleString('en-US')} more$`));
    expect(outcome.error.length).toBeLessThan(2_000);
    const report = outcome.details as VerifyRepoResult;
    const snapshot = report.snapshots[0]!;
    expect(snapshot.problems).toHaveLength(100);
    expect(snapshot.problemsOmitted).toBe(FORGED - 100);
    expect(JSON.stringify(report).length).toBeLessThan(20_000);
  });

  it('fails a snapshot copied under another valid name: snapshot.json records the original name', async () => {
    const { b, dir, name } = await backupWithSnapshot();
    const copyName = snapshotName(new Date(Date.now() + 3_600_000));
    const copy = join(dirname(dir), copyName);
    cpSync(dir, copy, { recursive: true });
    const run = await b.engine.verify({ snapshot: copyName });
    expect(run.exitCode).toBe(ExitCode.FAILURE);
    const outcome = run.outcomes[0]!;
    expect(outcome.ok ? '' : outcome.error).toContain(`${copyName}: snapshot.json: records the name ${JSON.stringify(name)}, but the snapshot directory is ${JSON.stringify(copyName)}`);
    // The original still verifies.
    expect((await b.engine.verify({ snapshot: name })).exitCode).toBe(ExitCode.OK);
  });
});
