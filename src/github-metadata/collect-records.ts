// The kinds read as whole lists, each page conditional (src/github-metadata/requests.ts): labels, milestones,
// commit comments and releases (with their assets). A day with nothing new costs one 304 per page of each. The
// repository's settings are read by collect-settings.ts.
import { classifyFailure } from './failure.ts';
import { downloadAsset } from './assets.ts';
import type { AssetMark } from './capture-state.ts';
import { metadataPaths } from './format.ts';
import type { CollectContext, KindResult } from './kind.ts';
import {
  normalizeCommitComment,
  normalizeLabels,
  normalizeMilestone,
  normalizeRelease,
  type ApiAsset,
  type ApiCommitComment,
  type ApiLabel,
  type ApiMilestone,
  type ApiRelease,
  type AssetBytes,
} from './normalize.ts';
import { readList } from './requests.ts';

/** A kind that failed to read keeps every record it had; the failure says why (failure.ts). */
export function failed(ctx: CollectContext, error: unknown, what: string): KindResult {
  const failure = classifyFailure(error, what, ctx.signal);
  return { state: failure.state, reason: failure.reason, documents: new Map(), stopsRepository: failure.stopsRepository };
}

export async function collectLabels(ctx: CollectContext): Promise<KindResult> {
  try {
    const read = await readList<ApiLabel>(ctx.client, `${ctx.repoPath}/labels`, {}, ctx.state.pages, { whole: true });
    const documents = new Map<string, unknown>(read.unchanged ? [] : [[metadataPaths.labels, normalizeLabels(read.items)]]);
    return { state: 'complete', documents, pages: read.pages };
  } catch (error) {
    return failed(ctx, error, 'labels');
  }
}

export async function collectMilestones(ctx: CollectContext): Promise<KindResult> {
  try {
    const read = await readList<ApiMilestone>(ctx.client, `${ctx.repoPath}/milestones`, { state: 'all' }, ctx.state.pages);
    return { state: 'complete', documents: new Map(read.items.map((m) => [metadataPaths.milestone(m.number), normalizeMilestone(m)])), pages: read.pages };
  } catch (error) {
    return failed(ctx, error, 'milestones');
  }
}

export async function collectCommitComments(ctx: CollectContext): Promise<KindResult> {
  try {
    const read = await readList<ApiCommitComment>(ctx.client, `${ctx.repoPath}/comments`, {}, ctx.state.pages);
    return { state: 'complete', documents: new Map(read.items.map((c) => [metadataPaths.commitComment(c.id), normalizeCommitComment(c)])), pages: read.pages };
  } catch (error) {
    return failed(ctx, error, 'commit comments');
  }
}

/**
 * Releases whose page changed, with their assets: bytes already kept for that version of an asset (same id,
 * updated_at and size) are not downloaded again. An asset over the cap, switched off or failing to download is
 * named in `skipped` and in its release's document; the release itself is kept.
 */
export async function collectReleases(ctx: CollectContext): Promise<KindResult> {
  let read;
  try {
    read = await readList<ApiRelease>(ctx.client, `${ctx.repoPath}/releases`, {}, ctx.state.pages);
  } catch (error) {
    return failed(ctx, error, 'releases');
  }
  const skipped: KindResult['skipped'] & object = [];
  const assets: Record<string, AssetMark> = {};
  const documents = new Map<string, unknown>();
  let stop: KindResult | null = null;
  for (const release of read.items) {
    const bytes = new Map<number, AssetBytes>();
    for (const asset of release.assets ?? []) {
      const kept = await keepAsset(ctx, asset, stop !== null);
      if ('failure' in kept) stop ??= kept.failure;
      const outcome = 'failure' in kept ? { skipped: kept.failure.reason ?? 'not downloaded' } : kept;
      bytes.set(asset.id, outcome);
      if ('sha256' in outcome) assets[String(asset.id)] = { updatedAt: asset.updated_at, size: asset.size, sha256: outcome.sha256 };
      else skipped.push({ what: `asset ${asset.name} (id ${asset.id}) of release ${release.tag_name}`, reason: outcome.skipped });
    }
    documents.set(metadataPaths.release(release.id), normalizeRelease(release, (a) => bytes.get(a.id)!));
  }
  const result: KindResult = { state: 'complete', documents, assets, ...(skipped.length ? { skipped } : {}) };
  // Stopped by the rate limit: the pages are asked again next time, and the downloads not made then.
  if (stop) return { ...result, state: 'partial', reason: stop.reason, stopsRepository: true };
  // A download that failed is tried again next run: its release must not answer 304 then.
  if (skipped.some((s) => s.reason.startsWith('download failed'))) return { ...result, pages: {} };
  return { ...result, pages: read.pages };
}

async function keepAsset(ctx: CollectContext, asset: ApiAsset, stopped: boolean): Promise<AssetBytes | { failure: KindResult }> {
  const known = ctx.state.assets[String(asset.id)];
  if (known && known.updatedAt === asset.updated_at && known.size === asset.size) return { sha256: known.sha256 };
  if (!ctx.downloadAssets) return { skipped: 'asset downloads are switched off (metadata.assets: false)' };
  if (ctx.assetMaxBytes !== null && asset.size > ctx.assetMaxBytes) return { skipped: `${asset.size} bytes, over metadata.assetMaxBytes (${ctx.assetMaxBytes})` };
  if (stopped) return { skipped: 'not downloaded: the capture stopped at the rate limit; the next run downloads it' };
  try {
    const sha256 = await downloadAsset(ctx.client, `${ctx.repoPath}/releases/assets/${asset.id}`, ctx.assetsDir, { size: asset.size, signal: ctx.signal, fetch: ctx.fetch });
    return { sha256 };
  } catch (error) {
    const failure = classifyFailure(error, `downloading asset ${asset.name}`, ctx.signal);
    if (failure.stopsRepository) return { failure: { state: 'partial', reason: failure.reason, documents: new Map(), stopsRepository: true } };
    return { skipped: `download failed: ${failure.reason}` };
  }
}
