// The live metadata repository (docs/METADATA_FORMAT.md "One git repository of JSON documents per repository"): a
// bare repository of ours with one branch, read through our git executor only. Reads are batched (one ls-tree, one
// cat-file --batch) so a capture of thousands of records starts as fast as one of ten.
import { createHash, randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BackupError } from '../errors.ts';
import { exists, removeTree } from '../fsutil.ts';
import type { GitCommandManager } from '../git/git.ts';
import { METADATA_BRANCH } from './format.ts';
import { isRepositoryItself } from './read-commit.ts';

/** Create the repository under a temporary name and rename it into place (docs/ARCHITECTURE.md invariant 1). */
export async function ensureMetadataRepo(git: GitCommandManager, dir: string): Promise<void> {
  if (await exists(dir)) return;
  await mkdir(dirname(dir), { recursive: true });
  const tmp = join(dirname(dir), `.tmp-metadata-${randomBytes(4).toString('hex')}`);
  try {
    // No template: no sample hooks or description to carry into every snapshot.
    await git.run(dirname(dir), ['init', '--bare', '--quiet', '--template=', '--', tmp]);
    await git.run(tmp, ['symbolic-ref', 'HEAD', METADATA_BRANCH]);
    await rename(tmp, dir);
  } catch (error) {
    await removeTree(tmp).catch(() => undefined);
    throw error;
  }
}

export interface MetadataTree {
  /** The branch's commit, or null before the first capture. */
  commit: string | null;
  /** Blob id by path. */
  blobs: Map<string, string>;
  objectFormat: 'sha1' | 'sha256';
}

export async function readMetadataTree(git: GitCommandManager, dir: string): Promise<MetadataTree> {
  // One rev-parse on a day like any other: which repository git takes, its object format and main's commit. Exit 1
  // (no main yet) or 128 (no repository) leaves no output, and the answers are asked for one by one.
  const [gitDir, format, head] = (await git.run(dir, ['rev-parse', '--absolute-git-dir', '--show-object-format', '--verify', '--quiet', `${METADATA_BRANCH}^{commit}`], { okExitCodes: [1, 128] })).trim().split('\n');
  const found = head ? { itself: gitDir === realpathSync(dir), format, commit: head } : null;
  // A damaged one is no repository to git, which would then use whatever repository encloses the root: never write
  // there. The capture fails and says so; the git backup goes on.
  if (!(found?.itself ?? (await isRepositoryItself(git, dir)))) throw new BackupError(`${dir} is not a git repository: the metadata repository there is damaged; move it aside and the next sync captures everything again (docs/METADATA_FORMAT.md)`);
  const objectFormat = (found?.format ?? (await git.run(dir, ['rev-parse', '--show-object-format'])).trim()) === 'sha256' ? 'sha256' : 'sha1';
  const commit = found?.commit ?? null;
  const blobs = new Map<string, string>();
  if (commit) {
    const listing = await git.runBytes(dir, ['ls-tree', '-r', '-z', '--full-tree', commit]);
    for (const entry of listing.toString('utf8').split('\0')) {
      const match = /^\d+ blob ([0-9a-f]+)\t(.+)$/s.exec(entry);
      if (match) blobs.set(match[2]!, match[1]!);
    }
  }
  return { commit, blobs, objectFormat };
}

/**
 * readDocuments for one capture: `upfront` (the documents every capture reads) in one cat-file at the start, the
 * rest when asked for. The same parsed objects are given to every caller: none changes them.
 */
export async function documentReader(git: GitCommandManager, dir: string, tree: MetadataTree, upfront: string[]): Promise<(paths: Iterable<string>) => Promise<Map<string, unknown>>> {
  const early = await readDocuments(git, dir, tree, upfront);
  const known = new Set(upfront);
  return async (paths) => {
    const wanted = [...paths];
    const documents = await readDocuments(git, dir, tree, wanted.filter((p) => !known.has(p)));
    for (const path of wanted) if (early.has(path)) documents.set(path, early.get(path));
    return documents;
  };
}

/** The id git gives these bytes as a blob: an unchanged document is found unchanged without asking git. */
export function blobId(bytes: Buffer, objectFormat: 'sha1' | 'sha256'): string {
  return createHash(objectFormat).update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

/** The documents at `paths` in the tree (absent ones are left out), parsed as JSON; one cat-file for all of them. */
export async function readDocuments(git: GitCommandManager, dir: string, tree: MetadataTree, paths: Iterable<string>): Promise<Map<string, unknown>> {
  const wanted = [...new Set(paths)].filter((p) => tree.blobs.has(p));
  const documents = new Map<string, unknown>();
  if (!wanted.length) return documents;
  const out = await git.runBytes(dir, ['cat-file', '--batch'], { input: Buffer.from(wanted.map((p) => `${tree.blobs.get(p)}\n`).join('')) });
  let offset = 0;
  for (const path of wanted) {
    const end = out.indexOf(0x0a, offset);
    const header = out.subarray(offset, end).toString('utf8');
    const match = /^[0-9a-f]+ blob (\d+)$/.exec(header);
    if (!match) throw new Error(`git cat-file answered ${JSON.stringify(header)} for ${path}`);
    const size = Number(match[1]);
    const body = out.subarray(end + 1, end + 1 + size);
    offset = end + 1 + size + 1;
    try {
      documents.set(path, JSON.parse(body.toString('utf8')));
    } catch {
      // A document we cannot parse is rewritten from GitHub's answer; its old version stays in the history.
    }
  }
  return documents;
}
