// A pack's index (.idx) and reverse index (.rev) are functions of the pack, so a manifest of version 3 records
// them without uploading them, and every pull rebuilds them with git index-pack (docs/STORE_FORMAT.md "Pack
// indexes"). The flags below make git 2.39 write exactly the files a fetch wrote (checked against real fetched
// and --fix-thin packs, test/store-pack-index.test.ts); whatever git writes is checked against the sha256 the
// manifest recorded, so a different index is an error, never a silent substitute.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { BackupError, errorMessage } from '../errors.ts';
import type { GitCommandManager } from '../git/git.ts';
import { sha256Hex } from './rebuilt-files.ts';

// The packs of the snapshot's repository, and of the metadata repository a snapshot holds under
// github-metadata/repo.git/ (docs/METADATA_FORMAT.md "In a snapshot"), which are git packs like any other.
const REPOSITORY = String.raw`(?:github-metadata/repo\.git/)?objects/pack/pack-(?:[0-9a-f]{40}|[0-9a-f]{64})`;
const PACK_PATH = new RegExp(String.raw`^${REPOSITORY}\.pack$`);
const DERIVABLE_PATH = new RegExp(String.raw`^(${REPOSITORY})\.(idx|rev)$`);

/**
 * Threads of one index-pack. A pull may run a few at once (each pack as it arrives), but only packs under 16 MiB
 * are derived (src/store/push.ts DERIVE_INDEX_BELOW_BYTES), so each is short.
 */
export const INDEX_PACK_THREADS = Math.max(1, Math.min(4, availableParallelism()));

/** A file as the manifest records it. */
export interface RecordedFile {
  path: string;
  size: number;
  sha256: string;
}

/** The pack path a derivable file (…objects/pack/pack-X.idx or .rev) comes from, or null for any other path. */
export function packOfDerivable(path: string): string | null {
  const m = DERIVABLE_PATH.exec(path);
  return m ? `${m[1]}.pack` : null;
}

export const isPackPath = (path: string): boolean => PACK_PATH.test(path);

/** The pack's .idx and .rev among `paths`, by pack path: the files index-pack can rebuild from each pack listed. */
export function derivableByPack(paths: readonly string[]): Map<string, string[]> {
  const packs = new Set(paths.filter(isPackPath));
  const out = new Map<string, string[]>();
  for (const path of paths) {
    const pack = packOfDerivable(path);
    if (pack && packs.has(pack)) out.set(pack, [...(out.get(pack) ?? []), path]);
  }
  return out;
}

/** The git index-pack arguments that write `indexAbs` (and, with `rev`, the .rev beside it) from the pack at `packAbs`. */
function indexPackArgs(packAbs: string, indexAbs: string, rev: boolean): string[] {
  // Explicit version and reverse index, so no pack.indexVersion or pack.writeReverseIndex setting changes them.
  return ['index-pack', '--index-version=2', `--threads=${INDEX_PACK_THREADS}`, rev ? '--rev-index' : '--no-rev-index', '-o', indexAbs, packAbs];
}

/**
 * Rebuild the files of `expected` (one pack's .idx, and its .rev when listed) from the pack at `packAbs` into
 * `outDir` under their own names, and check each against its recorded size and sha256. git runs in an empty
 * directory of its own, so it finds no repository around it and reads no config from one (the pulled config is
 * data from the store). Returns the absolute path of each file written, by manifest path. Throws BackupError
 * naming the file when git fails or a file differs; what it wrote is then removed.
 */
export async function rebuildPackIndex(git: GitCommandManager, packAbs: string, expected: readonly RecordedFile[], outDir: string, where: string): Promise<Map<string, string>> {
  const pack = packOfDerivable(expected[0]?.path ?? '') ?? basename(packAbs);
  const index = expected.find((f) => f.path.endsWith('.idx'));
  if (!index || basename(pack) !== basename(packAbs) || expected.some((f) => packOfDerivable(f.path) !== pack)) {
    throw new BackupError(`${where}: only a pack's own .idx (and .rev with it) can be rebuilt from ${pack}`);
  }
  const written = new Map(expected.map((f) => [f.path, join(outDir, basename(f.path))]));
  const rev = expected.some((f) => f.path.endsWith('.rev'));
  const cwd = await mkdtemp(join(tmpdir(), 'gpb-index-pack-'));
  try {
    try {
      await git.run(cwd, indexPackArgs(packAbs, written.get(index.path)!, rev));
    } catch (error) {
      throw new BackupError(`${where}: git index-pack could not rebuild ${index.path} from ${pack}: ${errorMessage(error)}`, undefined, { cause: error });
    }
    for (const file of expected) {
      const bytes = await readFile(written.get(file.path)!);
      if (bytes.length !== file.size || sha256Hex(bytes) !== file.sha256) {
        throw new BackupError(
          `${where}: ${file.path} rebuilt by git index-pack from ${pack} is not the file the manifest records ` +
            `(${bytes.length} bytes, sha256 ${sha256Hex(bytes)}; recorded ${file.size} bytes, ${file.sha256}): the pack or the manifest was changed after the push`,
        );
      }
    }
    return written;
  } catch (error) {
    for (const path of written.values()) await rm(path, { force: true }).catch(() => undefined);
    throw error;
  } finally {
    await rm(cwd, { recursive: true, force: true });
  }
}
