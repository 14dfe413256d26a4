// export: a snapshot as a compressed archive with a checksum, for off-site copies and moves to a new host.
import { randomBytes } from 'node:crypto';
import { mkdir, rename } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { verifiedExistingArchive, writeArchive, type ArchiveWritten } from '../archive.ts';
import { exists } from '../fsutil.ts';
import { UsageError } from '../errors.ts';
import type { ExportRepoResult, RepoTarget } from '../types.ts';
import type { ExportOptions } from './api.ts';
import type { EngineContext } from './context.ts';
import { whileReading } from './readers.ts';
import { reportPhase } from './progress.ts';
import { localSnapshotRef } from './snapshot-ref.ts';
import { assertSafeStructure, checkSnapshotStructure, describeForeignConfig } from './structure.ts';
import { resolveSnapshotName } from './verify.ts';

/**
 * An archive already at `out`: reused when its checksum verifies; otherwise refused, or with force moved aside (with
 * its sidecar, never deleted) so a fresh one can be written.
 */
async function existingArchiveOf(ctx: EngineContext, out: string, force: boolean): Promise<ArchiveWritten | null> {
  if (!(await exists(out))) return null;
  const verified = await verifiedExistingArchive(out);
  if (verified) return verified;
  if (!force) throw new UsageError(`${out} exists but does not match its .sha256 checksum (or has none): pass --force to write a new one (the old one is kept beside it)`);
  const kept = `${out}.replaced-${randomBytes(4).toString('hex')}`;
  await rename(out, kept);
  await rename(`${out}.sha256`, `${kept}.sha256`).catch(() => undefined);
  ctx.logger.log('warn', `${out} did not match its checksum: kept as ${kept}, writing a new archive`);
  return null;
}

export async function exportRepo(ctx: EngineContext, target: RepoTarget, options: ExportOptions): Promise<ExportRepoResult> {
  if (options.format && options.format !== 'tar.gz') throw new UsageError(`unsupported export format ${JSON.stringify(options.format)} (supported: tar.gz)`);
  const name = await resolveSnapshotName(ctx, target, options.snapshot);
  const out = options.output ? resolve(options.output) : ctx.layout.archive(target, name);
  await mkdir(dirname(out), { recursive: true });
  return whileReading(ctx, target, name, 'export', async () => {
    const dir = join(ctx.layout.snapshotParent(target), name);
    const what = `export ${target.id} ${name}`;
    const structure = await checkSnapshotStructure(dir);
    const metadata = assertSafeStructure(structure, what);
    // Archived as it is (the archive must match its snapshot.json); restore never lets git read it.
    if (structure.foreignConfig.length) ctx.logger.log('warn', `${what}: the snapshot's config is not one this tool writes: ${describeForeignConfig(structure)}`);
    const existing = await existingArchiveOf(ctx, out, Boolean(options.force));
    if (existing) {
      // A nightly export on a day with no new snapshot: the archive is there and verifies, so there is nothing to do.
      ctx.logger.log('info', `${target.id} ${name} already exported to ${out}; its checksum verifies`);
      return { repo: target.id, snapshot: await localSnapshotRef(ctx, target, name, metadata.createdAt), archive: existing.file, sha256: existing.sha256, sizeBytes: existing.sizeBytes, alreadyExported: true };
    }
    reportPhase(ctx, target, 'exporting', name);
    const written = await writeArchive(dir, out);
    ctx.logger.log('info', `exported ${target.id} ${name} to ${written.file}`, { sha256: written.sha256, bytes: written.sizeBytes });
    return { repo: target.id, snapshot: await localSnapshotRef(ctx, target, name, metadata.createdAt), archive: written.file, sha256: written.sha256, sizeBytes: written.sizeBytes, alreadyExported: false };
  });
}
