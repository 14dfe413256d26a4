// export: a snapshot as a compressed archive with a checksum, for off-site copies and moves to a new host.
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { writeArchive } from '../archive.ts';
import { UsageError } from '../errors.ts';
import type { ExportRepoResult, RepoTarget } from '../types.ts';
import type { ExportOptions } from './api.ts';
import type { EngineContext } from './context.ts';
import { whileReading } from './readers.ts';
import { assertSafeStructure, checkSnapshotStructure, describeForeignConfig } from './structure.ts';
import { resolveSnapshotName } from './verify.ts';

export async function exportRepo(ctx: EngineContext, target: RepoTarget, options: ExportOptions): Promise<ExportRepoResult> {
  if (options.format && options.format !== 'tar.gz') throw new UsageError(`unsupported export format ${JSON.stringify(options.format)} (supported: tar.gz)`);
  const name = await resolveSnapshotName(ctx, target, options.snapshot);
  const out = options.output ? resolve(options.output) : ctx.layout.archive(target, name);
  await mkdir(dirname(out), { recursive: true });
  return whileReading(ctx, target, name, 'export', async () => {
    const dir = join(ctx.layout.snapshotParent(target), name);
    const what = `export ${target.id} ${name}`;
    const structure = await checkSnapshotStructure(dir);
    assertSafeStructure(structure, what);
    // Archived as it is (the archive must match its snapshot.json); restore never lets git read it.
    if (structure.foreignConfig.length) ctx.logger.log('warn', `${what}: the snapshot's config is not one this tool writes: ${describeForeignConfig(structure)}`);
    const written = await writeArchive(dir, out);
    ctx.logger.log('info', `exported ${target.id} ${name} to ${written.file}`, { sha256: written.sha256, bytes: written.sizeBytes });
    return { repo: target.id, snapshot: name, archive: written.file, sha256: written.sha256, sizeBytes: written.sizeBytes };
  });
}
