// verify of a snapshot's GitHub metadata (docs/METADATA_FORMAT.md "In a snapshot"): git fsck of the metadata
// repository, its main against the recorded commit, its format, and its assets against what its releases name and
// the recorded totals. Runs only once the structural checks passed (structure.ts), as for the snapshot's own git.
import { join } from 'node:path';
import type { WalkEntry } from '../fsutil.ts';
import { fsck } from '../git/repo.ts';
import { SNAPSHOT_METADATA_ASSETS, SNAPSHOT_METADATA_DIR, SNAPSHOT_METADATA_REPO } from '../github-metadata/format.ts';
import { assertKnownFormat, assetDigestsOf, isRepositoryItself, metadataHead } from '../github-metadata/read-commit.ts';
import type { SnapshotMetadata } from '../metadata.ts';
import { isMetadataPath, metadataRepoPath } from '../snapshot-files.ts';
import type { VerifyProblem } from '../types.ts';
import type { EngineContext } from './context.ts';

const ASSET_PREFIX = `${SNAPSHOT_METADATA_ASSETS}/`;

export async function checkSnapshotMetadata(ctx: EngineContext, dir: string, metadata: SnapshotMetadata, files: WalkEntry[]): Promise<VerifyProblem[]> {
  const recorded = metadata.githubMetadata;
  const present = files.filter((f) => isMetadataPath(f.rel));
  if (!recorded) {
    return present.length ? [{ file: SNAPSHOT_METADATA_DIR, problem: `${present.length} file(s) present, but snapshot.json records no githubMetadata` }] : [];
  }
  if (!present.some((f) => metadataRepoPath(f.rel) !== null)) return [{ file: SNAPSHOT_METADATA_REPO, problem: 'missing: snapshot.json records GitHub metadata' }];

  const repo = join(dir, SNAPSHOT_METADATA_REPO);
  if (!(await isRepositoryItself(ctx.git, repo))) return [{ file: SNAPSHOT_METADATA_REPO, problem: 'not a git repository (git would read the enclosing snapshot instead)' }];

  const problems: VerifyProblem[] = [];
  for (const line of await fsck(ctx.git, repo)) problems.push({ file: `${SNAPSHOT_METADATA_REPO} (git fsck)`, problem: line });
  let digests: string[] | null = null;
  try {
    const head = await metadataHead(ctx.git, repo);
    if (head !== recorded.commit) problems.push({ file: SNAPSHOT_METADATA_REPO, problem: `main: recorded ${recorded.commit}, found ${head ?? 'nothing'}` });
    await assertKnownFormat(ctx.git, repo, recorded.commit);
    digests = await assetDigestsOf(ctx.git, repo, recorded.commit);
  } catch (error) {
    problems.push({ file: SNAPSHOT_METADATA_REPO, problem: (error as Error).message });
  }

  const assets = present.filter((f) => f.rel.startsWith(ASSET_PREFIX));
  // The bytes were hashed against snapshot.json by checkRecordedFiles; here the recorded hash must be the name.
  for (const asset of assets) {
    const hash = metadata.files[asset.rel]?.sha256;
    if (hash && hash !== asset.rel.slice(ASSET_PREFIX.length)) problems.push({ file: asset.rel, problem: `recorded sha256 ${hash} is not the asset's name` });
  }
  if (digests) {
    const names = new Set(assets.map((a) => a.rel.slice(ASSET_PREFIX.length)));
    for (const digest of digests) if (!names.has(digest)) problems.push({ file: `${ASSET_PREFIX}${digest}`, problem: 'missing: a release of the recorded commit names it' });
    const named = new Set(digests);
    for (const name of names) if (!named.has(name)) problems.push({ file: `${ASSET_PREFIX}${name}`, problem: 'no release of the recorded commit names this asset' });
  }
  const bytes = assets.reduce((n, a) => n + a.size, 0);
  if (assets.length !== recorded.assets.files || bytes !== recorded.assets.bytes) {
    problems.push({ file: SNAPSHOT_METADATA_ASSETS, problem: `recorded ${recorded.assets.files} asset(s) of ${recorded.assets.bytes} bytes, found ${assets.length} of ${bytes} bytes` });
  }
  return problems;
}
