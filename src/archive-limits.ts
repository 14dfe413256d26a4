// How much an archive may extract (docs/OPERATIONS.md, "Size limits"). Pure: the extractor supplies the archive's
// size, the destination's free space and, when the archive starts with it, the snapshot.json it carries.
//
// An archive written by export starts with <snapshot>/snapshot.json, which records every file and its size: the
// caps come from there, so a real snapshot always fits and a forged entry does not. An archive whose first entry
// is not snapshot.json (one exported before this order, or made by hand) gets fixed caps instead; it is not
// refused, so older exports stay restorable. Either way the total is held under two ceilings no snapshot.json can
// raise: a multiple of the archive's own size (git objects are already compressed, so a real snapshot barely
// shrinks in gzip, while a zero-filled bomb shrinks a thousandfold) and the destination's free space.
import { formatCount } from './bounded-read.ts';
import type { SnapshotMetadata } from './metadata.ts';

export interface ExtractLimits {
  /** Bytes of file content, all entries together. */
  maxBytes: number;
  /** Entries of every type, the top directory included. */
  maxEntries: number;
  /** Path segments, the top directory included. */
  maxDepth: number;
  /** Where each cap comes from, for the error message. */
  bytesSource: string;
  entriesSource: string;
  depthSource: string;
}

export const FIXED_MAX_ENTRIES = 100_000;
export const FIXED_MAX_DEPTH = 32;
/** Extracted bytes allowed per archive byte, plus a little for the small, compressible files of a bare repository. */
export const MAX_EXPANSION = 20;
export const EXPANSION_SLACK_BYTES = 16 * 1024 * 1024;
/** Extraction never takes the destination's last bytes. */
export const FREE_SPACE_RESERVE_BYTES = 64 * 1024 * 1024;
/** Directories a snapshot may hold beyond the parents of its recorded files (empty refs/tags, info, ...). */
const EXTRA_DIRECTORIES = 64;

export interface Ceiling {
  bytes: number;
  source: string;
}

/** The byte ceiling whatever the archive says: the smaller of its expansion bound and the free space. */
export function byteCeiling(archiveBytes: number, freeBytes: number, destination: string): Ceiling {
  const expansion = archiveBytes * MAX_EXPANSION + EXPANSION_SLACK_BYTES;
  const free = Math.max(0, freeBytes - FREE_SPACE_RESERVE_BYTES);
  return free < expansion
    ? { bytes: free, source: `the free space at ${destination} less ${formatCount(FREE_SPACE_RESERVE_BYTES)} bytes` }
    : { bytes: expansion, source: `${MAX_EXPANSION} times the archive's size plus ${formatCount(EXPANSION_SLACK_BYTES)} bytes` };
}

const FIXED_SOURCE = 'the fixed limit for an archive whose first entry is not snapshot.json';

export function fixedLimits(ceiling: Ceiling): ExtractLimits {
  return {
    maxBytes: ceiling.bytes,
    maxEntries: FIXED_MAX_ENTRIES,
    maxDepth: FIXED_MAX_DEPTH,
    bytesSource: ceiling.source,
    entriesSource: FIXED_SOURCE,
    depthSource: FIXED_SOURCE,
  };
}

/** Caps from what the archive's snapshot.json records about the snapshot (`metadataBytes`: its own size). */
export function limitsFromMetadata(metadata: SnapshotMetadata, metadataBytes: number, ceiling: Ceiling): ExtractLimits {
  let recordedBytes = metadataBytes;
  let deepest = 1;
  const directories = new Set<string>();
  for (const [path, { size }] of Object.entries(metadata.files)) {
    recordedBytes += size;
    const parts = path.split('/');
    deepest = Math.max(deepest, parts.length);
    for (let i = 1; i < parts.length; i++) directories.add(parts.slice(0, i).join('/'));
  }
  const files = Object.keys(metadata.files).length;
  const shapeSource = 'the files its snapshot.json records';
  const fromMetadata = recordedBytes <= ceiling.bytes;
  return {
    maxBytes: fromMetadata ? recordedBytes : ceiling.bytes,
    bytesSource: fromMetadata ? 'the sizes its snapshot.json records' : ceiling.source,
    // The top directory, snapshot.json, the files, their parent directories and a few empty ones.
    maxEntries: 2 + files + directories.size + EXTRA_DIRECTORIES,
    maxDepth: Math.max(FIXED_MAX_DEPTH, deepest + 1),
    entriesSource: shapeSource,
    depthSource: shapeSource,
  };
}

/** Caller-given caps (tests, a cautious caller) only ever lower the computed ones. */
export function lowered(limits: ExtractLimits, caps: Partial<Pick<ExtractLimits, 'maxBytes' | 'maxEntries' | 'maxDepth'>>): ExtractLimits {
  const out = { ...limits };
  if (caps.maxBytes !== undefined && caps.maxBytes < out.maxBytes) [out.maxBytes, out.bytesSource] = [caps.maxBytes, "the caller's limit"];
  if (caps.maxEntries !== undefined && caps.maxEntries < out.maxEntries) [out.maxEntries, out.entriesSource] = [caps.maxEntries, "the caller's limit"];
  if (caps.maxDepth !== undefined && caps.maxDepth < out.maxDepth) [out.maxDepth, out.depthSource] = [caps.maxDepth, "the caller's limit"];
  return out;
}
