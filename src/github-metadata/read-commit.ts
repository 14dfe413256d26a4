// What snapshots and verify read of a metadata repository through git (docs/METADATA_FORMAT.md "In a snapshot"):
// its `main`, its format, its capture.json and the assets its releases name, at one commit. Run only in a repository
// of ours (the live one, or a snapshot's copy after its structural checks); documents are parsed with read.ts.
import { realpathSync } from 'node:fs';
import type { z } from 'zod';
import { formatCount } from '../bounded-read.ts';
import { BackupError } from '../errors.ts';
import { exists } from '../fsutil.ts';
import type { GitCommandManager } from '../git/git.ts';
import { captureDocumentSchema, formatDocumentSchema, METADATA_BRANCH, metadataPaths, releaseSchema, type CaptureDocument } from './format.ts';
import { MAX_DOCUMENT_BYTES, parseBatchOutput, parseDocument, parseTreeListing } from './read.ts';

/**
 * Whether git takes `dir` itself as the repository. A damaged one (no valid HEAD, say) is not a repository to git,
 * which then looks in the directories above it: the enclosing snapshot, or whatever repository holds the root.
 */
export async function isRepositoryItself(git: GitCommandManager, dir: string): Promise<boolean> {
  const gitDir = (await git.run(dir, ['rev-parse', '--absolute-git-dir'], { okExitCodes: [128] })).trim();
  return gitDir === realpathSync(dir);
}

/** The commit `main` points to in the metadata repository at `dir`, or null when there is none (no repository yet). */
export async function metadataHead(git: GitCommandManager, dir: string): Promise<string | null> {
  if (!(await exists(dir))) return null;
  if (!(await isRepositoryItself(git, dir))) throw new BackupError(`${dir} is not a git repository: a metadata repository there is damaged (docs/METADATA_FORMAT.md)`);
  const out = await git.run(dir, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${METADATA_BRANCH}^{commit}`], { okExitCodes: [1] });
  return out.trim() || null;
}

/** The documents at `paths` (files, or folders listed one level deep) of `commit`, validated, by path. */
async function readDocuments<S extends z.ZodType>(git: GitCommandManager, dir: string, commit: string, paths: string[], schema: S): Promise<Map<string, z.infer<S>>> {
  const what = `${dir} at ${commit}`;
  const blobs = parseTreeListing(await git.run(dir, ['ls-tree', '-z', '-l', '--full-tree', commit, '--', ...paths])).filter((e) => e.type === 'blob' && e.path.endsWith('.json'));
  for (const blob of blobs) {
    if (blob.size > MAX_DOCUMENT_BYTES) throw new BackupError(`${what}: ${blob.path} is ${formatCount(blob.size)} bytes, over the ${formatCount(MAX_DOCUMENT_BYTES)}-byte limit for one document`);
  }
  if (!blobs.length) return new Map();
  const oids = blobs.map((b) => b.oid);
  const contents = parseBatchOutput(await git.runBytes(dir, ['cat-file', '--batch'], { input: Buffer.from(`${oids.join('\n')}\n`) }), oids);
  return new Map(blobs.map((blob, i) => [blob.path, parseDocument(what, blob.path, contents[i]!, schema)]));
}

async function readOne<S extends z.ZodType>(git: GitCommandManager, dir: string, commit: string, path: string, schema: S): Promise<z.infer<S>> {
  const document = (await readDocuments(git, dir, commit, [path], schema)).get(path);
  if (document === undefined) throw new BackupError(`${dir} at ${commit}: ${path} is missing (docs/METADATA_FORMAT.md)`);
  return document;
}

/** Refuse a metadata repository whose commit is not in the format this tool reads (format.json). */
export async function assertKnownFormat(git: GitCommandManager, dir: string, commit: string): Promise<void> {
  await readOne(git, dir, commit, metadataPaths.format, formatDocumentSchema);
}

export function readCapture(git: GitCommandManager, dir: string, commit: string): Promise<CaptureDocument> {
  return readOne(git, dir, commit, metadataPaths.capture, captureDocumentSchema);
}

/** The sha256 of every asset the releases of `commit` say was downloaded, each once, sorted. */
export async function assetDigestsOf(git: GitCommandManager, dir: string, commit: string): Promise<string[]> {
  const releasesDir = metadataPaths.release(0).slice(0, metadataPaths.release(0).indexOf('/') + 1);
  const releases = await readDocuments(git, dir, commit, [releasesDir], releaseSchema);
  const digests = new Set<string>();
  for (const release of releases.values()) for (const asset of release.assets) if (asset.sha256) digests.add(asset.sha256);
  return [...digests].sort();
}
