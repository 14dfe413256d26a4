// verify: recompute every checksum, run git fsck, compare refs with what the snapshot recorded (invariant 4), and
// check the GitHub metadata the snapshot carries (verify-metadata.ts).
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { assertSnapshotName } from '../naming.ts';
import { sha256File, type WalkEntry } from '../fsutil.ts';
import { fsck, readRefs } from '../git/repo.ts';
import { refsAsRecorded, type SnapshotMetadata } from '../metadata.ts';
import { lfsOidOf } from '../lfs.ts';
import { METADATA_FILE } from '../snapshot-files.ts';
import { BackupError } from '../errors.ts';
import { timeAgreesWithName } from '../snapshot-time.ts';
import type { RepoTarget, VerifyProblem, VerifyRepoResult, VerifySnapshotResult } from '../types.ts';
import type { VerifyOptions } from './api.ts';
import type { EngineContext } from './context.ts';
import { describeProblems, ProblemList } from './problem-list.ts';
import { whileReading } from './readers.ts';
import { describeSkipped, findLatest } from './latest.ts';
import { listSnapshotNames } from './snapshot.ts';
import { liveCounterpart } from './snapshot-metadata.ts';
import { checkSnapshotStructure } from './structure.ts';
import { reportPhase } from './progress.ts';
import { checkSnapshotMetadata } from './verify-metadata.ts';
import { localSnapshotRef } from './snapshot-ref.ts';

/** "latest" or a validated name, resolved against what exists. */
export async function resolveSnapshotName(ctx: EngineContext, target: RepoTarget, requested: string | undefined): Promise<string> {
  const names = await listSnapshotNames(ctx, target);
  if (!requested || requested === 'latest') {
    if (!names.length) throw new BackupError(`${target.id} has no snapshots yet`);
    const latest = await findLatest(ctx, target, names);
    if (latest.skipped.length) {
      ctx.logger.log('warn', `${target.id}: "latest" passes over ${describeSkipped(latest.skipped)}`);
    }
    if (!latest.name) {
      throw new BackupError(
        `${target.id}: no snapshot can be trusted as "latest" (${describeSkipped(latest.skipped)}); check the clock, run verify, or name a snapshot explicitly`,
      );
    }
    return latest.name;
  }
  assertSnapshotName(requested);
  if (!names.includes(requested)) {
    const hint = names.length ? ` (newest: ${names.at(-1)}; run "backup-manager list")` : '';
    throw new BackupError(`${target.id} has no snapshot ${requested}${hint}`);
  }
  return requested;
}

/** Other places (snapshots, the mirror, the live metadata) holding the same inode: damage there is damage here. */
async function sharersOf(ctx: EngineContext, target: RepoTarget, self: string, rel: string): Promise<string[]> {
  const mine = await lstat(join(ctx.layout.snapshotParent(target), self, rel));
  const candidates = [
    ...(await listSnapshotNames(ctx, target)).filter((n) => n !== self).map((n) => ({ label: n, path: join(ctx.layout.snapshotParent(target), n, rel) })),
    liveCounterpart(ctx, target, rel),
  ];
  const sharers: string[] = [];
  for (const c of candidates) {
    try {
      const st = await lstat(c.path);
      if (st.ino === mine.ino && st.dev === mine.dev) sharers.push(c.label);
    } catch {
      // not present there
    }
  }
  return sharers;
}

/** Checksums and sizes of the files present against what snapshot.json records; no git. */
export async function checkRecordedFiles(files: WalkEntry[], metadata: SnapshotMetadata): Promise<{ problems: VerifyProblem[]; filesChecked: number }> {
  const problems: VerifyProblem[] = [];
  const seen = new Set<string>();
  for (const file of files) {
    if (file.rel === METADATA_FILE) continue;
    seen.add(file.rel);
    const expected = metadata.files[file.rel];
    if (!expected) {
      problems.push({ file: file.rel, problem: 'unexpected file (not recorded in snapshot.json)' });
      continue;
    }
    const actual = await sha256File(file.abs);
    if (actual !== expected.sha256 || file.size !== expected.size) {
      problems.push({ file: file.rel, problem: `checksum mismatch: recorded sha256 ${expected.sha256} (${expected.size} bytes), found ${actual} (${file.size} bytes)` });
    }
    // An LFS object is named by its content's sha256: one recorded as it was damaged is caught by its name.
    const oid = lfsOidOf(file.rel);
    if (oid && actual !== oid) problems.push({ file: file.rel, problem: `LFS object content does not match its oid: found sha256 ${actual}` });
  }
  for (const rel of Object.keys(metadata.files)) if (!seen.has(rel)) problems.push({ file: rel, problem: 'missing file' });
  return { problems, filesChecked: seen.size };
}

/** Check one snapshot directory (also used on a freshly extracted archive and before a restore swap). */
export async function verifySnapshotDir(
  ctx: EngineContext,
  dir: string,
  expectedName?: string,
): Promise<{ problems: VerifyProblem[]; problemsOmitted: number; filesChecked: number; createdAt: string }> {
  const structure = await checkSnapshotStructure(dir);
  // Bounded: a forged snapshot.json can make millions of problems (docs/OPERATIONS.md, "Size limits").
  const problems = new ProblemList();
  problems.pushAll(structure.unsafe);
  problems.pushAll(structure.foreignConfig);
  const metadata = structure.metadata;
  // The time snapshot.json records, as the result's reference carries it ('' when it cannot be read).
  const result = (filesChecked: number) => ({ problems: problems.listed, problemsOmitted: problems.omitted, filesChecked, createdAt: metadata?.createdAt ?? '' });
  if (!metadata) return result(0);
  // A valid snapshot.json copied under another name would otherwise pass as that snapshot. (A scratch directory,
  // such as a pull from the store, has a name of its own: its callers pass none.)
  if (expectedName !== undefined && metadata.name !== expectedName) {
    problems.push({ file: METADATA_FILE, problem: `records the name ${JSON.stringify(metadata.name)}, but the snapshot directory is ${JSON.stringify(expectedName)}` });
  }
  if (!timeAgreesWithName(metadata.name, new Date(metadata.createdAt))) {
    // Retention and "latest" go by the name; a createdAt that says otherwise was edited or damaged.
    problems.push({ file: METADATA_FILE, problem: `createdAt ${metadata.createdAt} disagrees with the snapshot's name ${metadata.name}` });
  }
  const recorded = await checkRecordedFiles(structure.files, metadata);
  problems.pushAll(recorded.problems);
  // git reads the snapshot's config and follows its refs and packs: only once the structure is known to be safe.
  if (structure.unsafe.length || structure.foreignConfig.length) {
    problems.push({ file: 'git fsck', problem: 'not run: git must not read this snapshot until the problems above are gone' });
    return result(recorded.filesChecked);
  }
  for (const line of await fsck(ctx.git, dir)) problems.push({ file: 'git fsck', problem: line });
  try {
    const refs = refsAsRecorded(await readRefs(ctx.git, dir), metadata.format);
    const recorded = metadata.refs;
    for (const [ref, oid] of Object.entries(recorded)) {
      if (refs[ref] !== oid) problems.push({ file: 'refs', problem: `${ref}: recorded ${oid}, found ${refs[ref] ?? 'nothing'}` });
    }
    for (const ref of Object.keys(refs)) if (!(ref in recorded)) problems.push({ file: 'refs', problem: `${ref}: not recorded in snapshot.json` });
  } catch (error) {
    problems.push({ file: 'refs', problem: (error as Error).message });
  }
  problems.pushAll(await checkSnapshotMetadata(ctx, dir, metadata, structure.files));
  return result(recorded.filesChecked);
}

export async function verifySnapshot(ctx: EngineContext, target: RepoTarget, name: string): Promise<VerifySnapshotResult> {
  return whileReading(ctx, target, name, 'verify', async () => {
    reportPhase(ctx, target, 'verifying', name);
    const dir = join(ctx.layout.snapshotParent(target), name);
    const { problems, problemsOmitted, filesChecked, createdAt } = await verifySnapshotDir(ctx, dir, name);
    for (const problem of problems) {
      if (problem.problem.startsWith('checksum mismatch')) problem.sharedWith = await sharersOf(ctx, target, name, problem.file);
    }
    const ok = problems.length === 0;
    ctx.logger.log(ok ? 'info' : 'error', `verify ${target.id} ${name}: ${ok ? 'ok' : `${problems.length + problemsOmitted} problem(s)`}`, ok ? {} : { first: `${problems[0]!.file}: ${problems[0]!.problem}` });
    return { ...(await localSnapshotRef(ctx, target, name, createdAt)), ok, filesChecked, problems, ...(problemsOmitted ? { problemsOmitted } : {}) };
  });
}

export async function verifyRepo(ctx: EngineContext, target: RepoTarget, options: VerifyOptions = {}): Promise<VerifyRepoResult> {
  const names = options.all ? await listSnapshotNames(ctx, target) : [await resolveSnapshotName(ctx, target, options.snapshot)];
  const snapshots: VerifySnapshotResult[] = [];
  for (const name of names) snapshots.push(await verifySnapshot(ctx, target, name));
  const bad = snapshots.filter((s) => !s.ok);
  if (bad.length) {
    const detail = bad.map((s) => `${s.name}: ${describeProblems(s.problems, s.problemsOmitted)}`);
    const report: VerifyRepoResult = { repo: target.id, snapshots };
    throw new BackupError(`${target.id}: ${bad.length} of ${snapshots.length} snapshot(s) failed verification: ${detail.join(' | ')}`, undefined, { details: report });
  }
  return { repo: target.id, snapshots };
}
