// export --metadata: a snapshot's issues, pull requests and releases as a static site anyone can browse offline
// (docs/OPERATIONS.md "Reading issues, pull requests and releases offline"). The site is written into a temporary
// directory beside its target and renamed into place, so a half-written site is never there.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.ts';
import { exists, isEmptyDir, removeTree, sha256File } from '../fsutil.ts';
import { Layout } from '../layout.ts';
import { readSnapshotMetadata, type SnapshotMetadata } from '../github-metadata/read.ts';
import { planSite } from '../github-metadata/site.ts';
import type { Asset } from '../github-metadata/format.ts';
import { snapshotName } from '../naming.ts';
import type { ExportSiteResult, RepoTarget } from '../types.ts';
import type { ExportOptions } from './api.ts';
import type { EngineContext } from './context.ts';
import { whileReading } from './readers.ts';
import { assertSafeStructure, checkSnapshotStructure } from './structure.ts';
import { localSnapshotRef } from './snapshot-ref.ts';
import { resolveSnapshotName } from './verify.ts';

/** What marks a directory as a site export wrote, so the next export of it may replace it without --force. */
export const SITE_MARKER = 'site.json';
const SITE_FORMAT = 'github-private-backup-site';

const nonce = () => randomBytes(4).toString('hex');
const WRITES_AT_ONCE = 32;

/** Why each asset's bytes cannot go into the site; null for those that can. Each file is hashed once. */
async function checkAssets(metadata: SnapshotMetadata): Promise<(asset: Asset) => string | null> {
  const problems = new Map<string, string | null>();
  for (const release of metadata.records.releases) {
    for (const asset of release.assets) {
      if (!asset.sha256 || problems.has(asset.sha256)) continue;
      const file = metadata.assetFile(asset.sha256);
      if (!file) problems.set(asset.sha256, 'its file is missing from the snapshot');
      else problems.set(asset.sha256, (await sha256File(file)) === asset.sha256 ? null : 'its file in the snapshot is damaged (sha256 mismatch; run verify)');
    }
  }
  return (asset) => (asset.sha256 ? problems.get(asset.sha256)! : `not downloaded${asset.skipped ? `: ${asset.skipped}` : ''}`);
}

async function isOurSite(dir: string): Promise<boolean> {
  try {
    return (JSON.parse(await readFile(join(dir, SITE_MARKER), 'utf8')) as { format?: unknown }).format === SITE_FORMAT;
  } catch {
    return false;
  }
}

/** The site's directory: refused inside the parts of the root that hold the backup itself. */
function siteDir(ctx: EngineContext, target: RepoTarget, name: string, output: string | undefined): string {
  const out = output ? resolve(output) : ctx.layout.metadataSite(target, name);
  const guarded = [ctx.layout.snapshotsDir, ctx.layout.immutableDir, ctx.layout.stateDir, dirname(ctx.layout.metadataRepo(target))];
  if (guarded.some((dir) => new Layout(dir).contains(out)) || new Layout(out).contains(ctx.layout.root)) {
    throw new UsageError(`refusing to write a site to ${out}: it is part of the backup root ${ctx.layout.root} (choose a directory outside it, or under archives/)`);
  }
  return out;
}

/** Move the finished site at `tmp` to `out`: an earlier site of ours is replaced, anything else kept beside or refused. */
async function swapInSite(ctx: EngineContext, tmp: string, out: string, force: boolean): Promise<string | null> {
  if (await isEmptyDir(out)) {
    if (await exists(out)) await rmdir(out);
    await rename(tmp, out);
    return null;
  }
  if (await isOurSite(out)) {
    const old = join(dirname(out), `.${basename(out)}.old-${nonce()}`);
    await rename(out, old);
    await rename(tmp, out);
    await removeTree(old);
    return null;
  }
  if (!force) throw new UsageError(`${out} exists and is not a site written by export: choose an empty or new directory, or pass --force (it is kept beside)`);
  const kept = `${out}.replaced-${snapshotName(ctx.clock()).slice('snapshot-'.length)}-${nonce()}`;
  await rename(out, kept);
  await rename(tmp, out);
  return kept;
}

export async function exportMetadataSite(ctx: EngineContext, target: RepoTarget, options: ExportOptions): Promise<ExportSiteResult> {
  if (options.format) throw new UsageError('export of the metadata writes a site: a format does not apply');
  const name = await resolveSnapshotName(ctx, target, options.snapshot);
  const out = siteDir(ctx, target, name, options.output);
  return whileReading(ctx, target, name, 'export', async () => {
    const dir = join(ctx.layout.snapshotParent(target), name);
    const what = `export the metadata of ${target.id} ${name}`;
    const structure = await checkSnapshotStructure(dir);
    const recorded = assertSafeStructure(structure, what);
    const metadata = await readSnapshotMetadata(ctx.git, dir, structure, what);
    const assetProblem = await checkAssets(metadata);
    const { files, assets } = planSite({ repo: target.id, snapshot: name, records: metadata.records, assetProblem });

    await mkdir(dirname(out), { recursive: true });
    const tmp = join(dirname(out), `.${basename(out)}.tmp-${nonce()}`);
    try {
      let bytes = 0;
      // A page per record: each directory made once, and pages written a few at a time (the disk, not us, is slow).
      for (const dir of new Set(files.map((f) => dirname(join(tmp, f.path))))) await mkdir(dir, { recursive: true });
      for (let i = 0; i < files.length; i += WRITES_AT_ONCE) {
        await Promise.all(files.slice(i, i + WRITES_AT_ONCE).map((f) => writeFile(join(tmp, f.path), f.content)));
      }
      for (const asset of assets) {
        await mkdir(dirname(join(tmp, asset.path)), { recursive: true });
        // Copied, not linked: the site is the user's to move or change, and shares nothing with the backup.
        await copyFile(metadata.assetFile(asset.sha256)!, join(tmp, asset.path));
        bytes += (await stat(join(tmp, asset.path))).size;
      }
      const marker = { format: SITE_FORMAT, repository: target.id, snapshot: name, metadataCommit: metadata.records.commit, writtenAt: ctx.clock().toISOString() };
      await writeFile(join(tmp, SITE_MARKER), `${JSON.stringify(marker, null, 2)}\n`);
      const keptPrevious = await swapInSite(ctx, tmp, out, Boolean(options.force));
      const assetsMissing = metadata.records.releases.flatMap((r) =>
        r.assets.flatMap((a) => {
          const reason = assetProblem(a);
          return reason === null ? [] : [{ release: r.tagName, asset: a.name, reason }];
        }),
      );
      const { records } = metadata;
      ctx.logger.log('info', `exported the metadata of ${target.id} ${name} to ${out}`, { issues: records.issues.length, pulls: records.pulls.length, releases: records.releases.length, kept: keptPrevious });
      return {
        repo: target.id,
        snapshot: await localSnapshotRef(ctx, target, name, recorded.createdAt),
        site: out,
        metadataCommit: records.commit,
        counts: { issues: records.issues.length, pulls: records.pulls.length, releases: records.releases.length, pages: files.filter((f) => f.path.endsWith('.html')).length },
        assets: { files: assets.length, bytes },
        assetsMissing,
        keptPrevious,
      };
    } finally {
      await removeTree(tmp).catch(() => undefined);
    }
  });
}
