// snapshot.json: what a snapshot says about itself (docs/ARCHITECTURE.md invariant 3). Schema-validated both ways.
import { join } from 'node:path';
import { z } from 'zod';
import { readTextCapped } from './bounded-read.ts';
import { BackupError } from './errors.ts';
import { snapshotMetadataSummarySchema } from './github-metadata/format.ts';
import { isPlainRefKey, refKeyToBytes, refMapSchema, type RefMap } from './refs.ts';
import { METADATA_FILE } from './snapshot-files.ts';

/**
 * Format 2 keeps ref names losslessly (src/refs.ts `RefKey`) and records where the snapshot came from
 * (`upstream`). Format 1 files are still read: their ref names were decoded lossily, and they have no `upstream`.
 * `githubMetadata` is an optional field of format 2, present only in a snapshot that carries GitHub metadata
 * (docs/METADATA_FORMAT.md "In a snapshot"): a snapshot without it is written byte for byte as before.
 */
export const METADATA_FORMAT = 2;

/** Most repositories have one root commit; a hostile one may have thousands. The identity check needs a few. */
export const MAX_RECORDED_ROOTS = 100;

const headSchema = z.object({ hash: z.string(), date: z.string(), subject: z.string() });

/** Who the upstream was when the snapshot was taken (docs/OPERATIONS.md "Upstream identity"). */
export const upstreamIdentitySchema = z
  .object({
    /** The URL actually fetched, without credentials. */
    url: z.string(),
    /** GitHub's own id and current name for the repository, when its API answered. */
    github: z
      .object({
        id: z.number().int().positive(),
        fullName: z.string(),
        /** The owner/name fetched, when GitHub answered it under another name (the repository was renamed). */
        renamedFrom: z.string().optional(),
      })
      .strict()
      .optional(),
    /** Root commits of the history (sorted, at most MAX_RECORDED_ROOTS): an unrelated history shares none. */
    rootCommits: z.array(z.string().regex(/^[0-9a-f]{40,64}$/)).max(MAX_RECORDED_ROOTS),
  })
  .strict();

export type UpstreamIdentity = z.infer<typeof upstreamIdentitySchema>;

export const snapshotMetadataSchema = z
  .object({
    format: z.union([z.literal(1), z.literal(METADATA_FORMAT)]),
    tool: z.object({ name: z.literal('github-private-backup'), version: z.string() }),
    repository: z.string(),
    sourceUrl: z.string(),
    name: z.string(),
    createdAt: z.iso.datetime(),
    head: headSchema.nullable(),
    headRef: z.string().nullable(),
    refs: refMapSchema,
    upstream: upstreamIdentitySchema.optional(),
    counts: z.object({
      refs: z.number().int(),
      branches: z.number().int(),
      tags: z.number().int(),
      files: z.number().int(),
      linkedFiles: z.number().int(),
      copiedFiles: z.number().int(),
    }),
    sizes: z.object({ totalBytes: z.number().int(), linkedBytes: z.number().int(), copiedBytes: z.number().int() }),
    files: z.record(z.string(), z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int() })),
    /** The GitHub metadata under github-metadata/ (its files are in `files` like the rest). */
    githubMetadata: snapshotMetadataSummarySchema.optional(),
  })
  .strict();

export type SnapshotMetadata = z.infer<typeof snapshotMetadataSchema>;

export function serializeMetadata(metadata: SnapshotMetadata): string {
  return `${JSON.stringify(snapshotMetadataSchema.parse(metadata), null, 2)}\n`;
}

/**
 * Largest snapshot.json we read (docs/OPERATIONS.md, "Size limits"). With refs packed after every fetch a snapshot
 * records few files; 32 MiB holds about 300,000 refs and parses in well under the container's 512 MB.
 */
export const MAX_METADATA_BYTES = 32 * 1024 * 1024;

export async function readMetadata(snapshotDir: string, maxBytes = MAX_METADATA_BYTES): Promise<SnapshotMetadata> {
  const file = join(snapshotDir, METADATA_FILE);
  let text: string;
  try {
    text = await readTextCapped(file, maxBytes, 'snapshot metadata');
  } catch (error) {
    if (error instanceof BackupError) throw error;
    throw new BackupError(`${file}: cannot read snapshot metadata (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
  return parseMetadata(text, file);
}

/** Parse and validate snapshot.json's text; `file` names it in errors. */
export function parseMetadata(text: string, file: string): SnapshotMetadata {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new BackupError(`${file}: snapshot metadata is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = snapshotMetadataSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new BackupError(`${file}: snapshot metadata is invalid at ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  return parsed.data;
}

export function countRefs(refs: Record<string, string>): { refs: number; branches: number; tags: number } {
  const names = Object.keys(refs);
  return {
    refs: names.length,
    branches: names.filter((n) => n.startsWith('refs/heads/')).length,
    tags: names.filter((n) => n.startsWith('refs/tags/')).length,
  };
}

const lossyUtf8 = new TextDecoder('utf-8');

/**
 * A repository's refs in the form a snapshot.json of that format recorded them, for comparing the two. Format 1
 * decoded names lossily (each invalid byte sequence became U+FFFD); format 2 keeps ref keys as they are.
 */
export function refsAsRecorded(refs: RefMap, format: SnapshotMetadata['format']): RefMap {
  if (format !== 1) return refs;
  return Object.fromEntries(Object.entries(refs).map(([key, oid]) => [isPlainRefKey(key) ? key : lossyUtf8.decode(refKeyToBytes(key)), oid]));
}
