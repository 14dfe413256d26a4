// A snapshot's structural checks: what verify, restore and export look at before anything reads the snapshot's
// content, and before any git runs against it (docs/OPERATIONS.md, "What git is allowed to read"). No git here:
// these checks are what make it safe to run git afterwards.
import { lstat, readFile } from 'node:fs/promises';
import { BackupError } from '../errors.ts';
import { walkFiles, type WalkEntry } from '../fsutil.ts';
import { foreignConfigEntries } from '../git/config-template.ts';
import { readMetadata, type SnapshotMetadata } from '../metadata.ts';
import { SNAPSHOT_METADATA_DIR, SNAPSHOT_METADATA_REPO } from '../github-metadata/format.ts';
import { isMetadataPath, METADATA_FILE, metadataRepoPath, snapshotFileTreatment } from '../snapshot-files.ts';
import type { VerifyProblem } from '../types.ts';

// Files through which git reads another directory: objects of another repository, or a whole other git dir.
const LEADS_ELSEWHERE = [
  /^objects\/info\/(http-)?alternates$/,
  /^commondir$/,
  /^gitdir$/,
  /^worktrees\//,
];

/** A file (relative to a repository's git dir) through which git would read another directory. */
export function leadsGitElsewhere(rel: string): boolean {
  return LEADS_ELSEWHERE.some((re) => re.test(rel));
}

// Ours are a few hundred bytes; a larger one is not ours and is not read into memory.
const MAX_CONFIG_BYTES = 64 * 1024;

export interface SnapshotStructure {
  metadata: SnapshotMetadata | null;
  /** Regular files, sorted by path (snapshot.json included). */
  files: WalkEntry[];
  /** Symlinks, special files, files that lead git outside, unreadable metadata: nothing may read this snapshot. */
  unsafe: VerifyProblem[];
  /** Settings in its `config` that this tool never writes: git must not read that file. */
  foreignConfig: VerifyProblem[];
}

export async function checkSnapshotStructure(dir: string): Promise<SnapshotStructure> {
  const unsafe: VerifyProblem[] = [];
  const foreignConfig: VerifyProblem[] = [];
  const top = await lstat(dir).catch(() => null);
  if (!top?.isDirectory()) {
    return { metadata: null, files: [], unsafe: [{ file: '.', problem: top ? 'not a directory (a symlink or a file)' : 'missing' }], foreignConfig };
  }
  let metadata: SnapshotMetadata | null = null;
  try {
    metadata = await readMetadata(dir);
  } catch (error) {
    unsafe.push({ file: METADATA_FILE, problem: (error as Error).message });
  }
  const files = await walkFiles(dir, {
    onOther: (rel) => unsafe.push({ file: rel, problem: 'a symlink or special file: reading it could read outside the snapshot' }),
  });
  for (const file of files) {
    // The metadata repository is one git reads too (verify's fsck): what leads git elsewhere is refused inside it.
    if (leadsGitElsewhere(metadataRepoPath(file.rel) ?? file.rel)) unsafe.push({ file: file.rel, problem: 'git would read another directory through this file' });
    else if (isMetadataPath(file.rel) && snapshotFileTreatment(file.rel) === 'skip') {
      unsafe.push({ file: file.rel, problem: `not a file a snapshot holds under ${SNAPSHOT_METADATA_DIR}/ (only its repository's files and assets/<sha256>)` });
    }
  }
  for (const rel of ['config', `${SNAPSHOT_METADATA_REPO}/config`]) await checkConfig(files.find((f) => f.rel === rel), foreignConfig);
  return { metadata, files, unsafe, foreignConfig };
}

async function checkConfig(config: WalkEntry | undefined, foreignConfig: VerifyProblem[]): Promise<void> {
  if (config && config.size > MAX_CONFIG_BYTES) foreignConfig.push({ file: config.rel, problem: `${config.size} bytes: larger than any config this tool writes` });
  else if (config) {
    for (const problem of foreignConfigEntries(await readFile(config.abs, 'utf8'))) foreignConfig.push({ file: config.rel, problem });
  }
}

/** Refuse a snapshot that fails its structural checks, naming the problems; `--force` has no say here. */
export function assertSafeStructure(structure: SnapshotStructure, what: string): SnapshotMetadata {
  if (structure.unsafe.length || !structure.metadata) {
    const shown = structure.unsafe.slice(0, 5).map((p) => `${p.file}: ${p.problem}`);
    const more = structure.unsafe.length > 5 ? ` (and ${structure.unsafe.length - 5} more)` : '';
    throw new BackupError(`refusing to ${what}: the snapshot fails its structural checks: ${shown.join('; ')}${more}`);
  }
  return structure.metadata;
}

/** The foreign settings in one line, for a warning where the config is set aside rather than refused. */
export function describeForeignConfig(structure: SnapshotStructure): string {
  return structure.foreignConfig.map((p) => p.problem).join('; ');
}
