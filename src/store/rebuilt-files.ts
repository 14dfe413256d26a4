// The two files of a snapshot a version-2 manifest carries as data instead of as objects: snapshot.json and
// packed-refs (docs/STORE_FORMAT.md "Files rebuilt from the manifest"). Both change with every snapshot and both
// repeat the ref list, so uploading them daily cost more than the day's pack. A push chooses a rebuild only when
// the rebuilt bytes equal the file's bytes, and a reader checks them against the recorded sha256, so what a pull
// writes is byte for byte what the snapshot held. Pure.
import { createHash } from 'node:crypto';
import { refKeyFromBytes, refKeyToBytes, type RefMap } from '../refs.ts';

/** How packed-refs is rebuilt: its header line, and the peeled object id (`^…` line) of each annotated tag. */
export interface PackedRefsSpec {
  /** The first line without its newline (`# pack-refs with: peeled fully-peeled sorted `), or null when absent. */
  header: string | null;
  peeled: Record<string, string>;
}

export const sha256Hex = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** snapshot.json as the tool writes it (src/metadata.ts serializeMetadata): JSON, two-space indent, one newline. */
export function renderSnapshotJson(snapshot: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(snapshot, null, 2)}\n`);
}

/**
 * packed-refs with every ref of `refs`, sorted by the bytes of their names (as git sorts them), each followed by
 * its peeled line when `spec` has one.
 */
export function renderPackedRefs(refs: RefMap, spec: PackedRefsSpec): Buffer {
  const names = Object.keys(refs).map((key) => ({ key, bytes: refKeyToBytes(key) }));
  names.sort((a, b) => Buffer.compare(a.bytes, b.bytes));
  const parts: Buffer[] = [];
  if (spec.header !== null) parts.push(Buffer.from(`${spec.header}\n`));
  for (const { key, bytes } of names) {
    parts.push(Buffer.from(`${refs[key]} `), bytes, Buffer.from('\n'));
    const peeled = spec.peeled[key];
    if (peeled !== undefined) parts.push(Buffer.from(`^${peeled}\n`));
  }
  return Buffer.concat(parts);
}

/**
 * The spec that rebuilds `packedRefs` from `refs`, or null when no spec does: a ref that is loose as well as
 * packed, a loose-only ref, or any line this rendering would not write. Null is not an error: the file is then
 * stored as an object like any other.
 */
export function packedRefsSpec(packedRefs: Buffer, refs: RefMap): PackedRefsSpec | null {
  const text = packedRefs.toString('latin1');
  const lines = text.split('\n');
  if (lines.pop() !== '') return null; // no final newline
  let header: string | null = null;
  if (lines[0]?.startsWith('#')) header = Buffer.from(lines.shift()!, 'latin1').toString('utf8');
  const peeled: Record<string, string> = {};
  let last: string | null = null;
  for (const line of lines) {
    if (line.startsWith('^')) {
      if (last === null || last in peeled) return null;
      peeled[last] = line.slice(1);
      continue;
    }
    const space = line.indexOf(' ');
    if (space < 0) return null;
    last = refKeyFromBytes(Buffer.from(line.slice(space + 1), 'latin1'));
  }
  const spec = { header, peeled };
  // The header must survive the round trip through UTF-8 too; comparing the whole rendering proves everything.
  return renderPackedRefs(refs, spec).equals(packedRefs) ? spec : null;
}
