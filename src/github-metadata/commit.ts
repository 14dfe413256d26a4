// One commit per capture that changed something (docs/METADATA_FORMAT.md): the changed documents go into the
// metadata repository with `git fast-import`, one process whatever the number of records, building the new tree
// from the branch's last commit. No working tree, no index, no hooks; the branch moves only if it fast-forwards.
import type { GitCommandManager } from '../git/git.ts';
import { METADATA_BRANCH } from './format.ts';
import { blobId, type MetadataTree } from './metadata-repo.ts';

const COMMITTER = 'github-private-backup <github-private-backup@localhost>';

/** The documents whose bytes differ from the tree's (new paths included). */
export function changedDocuments(tree: MetadataTree, documents: Map<string, Buffer>): Map<string, Buffer> {
  const changed = new Map<string, Buffer>();
  for (const [path, bytes] of documents) if (tree.blobs.get(path) !== blobId(bytes, tree.objectFormat)) changed.set(path, bytes);
  return changed;
}

/** Commit `changed` on top of the branch; returns the new commit. Paths are ours (metadataPaths), never GitHub's. */
export async function commitDocuments(git: GitCommandManager, dir: string, tree: MetadataTree, changed: Map<string, Buffer>, message: string, at: Date): Promise<string> {
  const parts: Buffer[] = [];
  const text = (s: string) => parts.push(Buffer.from(s, 'utf8'));
  const data = (bytes: Buffer) => {
    text(`data ${bytes.length}\n`);
    parts.push(bytes);
    text('\n');
  };
  text('feature done\n');
  text(`commit ${METADATA_BRANCH}\n`);
  text(`committer ${COMMITTER} ${Math.floor(at.getTime() / 1000)} +0000\n`);
  data(Buffer.from(message, 'utf8'));
  if (tree.commit) text(`from ${tree.commit}\n`);
  for (const path of [...changed.keys()].sort()) {
    if (!/^[a-z0-9._/-]+$/.test(path) || path.split('/').some((s) => s === '' || s === '.' || s === '..')) throw new Error(`not a metadata path: ${JSON.stringify(path)}`);
    text(`M 100644 inline ${path}\n`);
    data(changed.get(path)!);
  }
  text('done\n');
  await git.run(dir, ['fast-import', '--quiet', '--done'], { input: Buffer.concat(parts) });
  return (await git.run(dir, ['rev-parse', '--verify', `${METADATA_BRANCH}^{commit}`])).trim();
}
