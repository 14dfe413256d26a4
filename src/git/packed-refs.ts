// The packed-refs file read directly, where git has just written it (`git pack-refs --all`): one read instead of a
// `git for-each-ref` (docs/BENCHMARKS.md "Scale"). The format is git's documented one (gitrepository-layout(5),
// "packed-refs"): an optional "# pack-refs with: …" header, then "<oid> <name>" lines sorted by the bytes of the
// name, each annotated tag followed by a "^<peeled oid>" line. Read strictly: anything git's own writer would not
// produce answers null, and the caller asks git instead. Names stay bytes (docs/OPERATIONS.md "Ref names").
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { refKeyFromBytes, type RefMap } from '../refs.ts';

const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const HEADER = Buffer.from('# pack-refs with:');
const REFS = Buffer.from('refs/');

/** Every ref in a packed-refs file's bytes, or null when they are not exactly what `git pack-refs` writes. */
export function parsePackedRefs(bytes: Buffer): RefMap | null {
  if (bytes.length && bytes.at(-1) !== 0x0a) return null;
  const refs: RefMap = {};
  let previous: Buffer | null = null;
  let peelable = false;
  for (let start = 0; start < bytes.length; ) {
    const end = bytes.indexOf(0x0a, start);
    const line = bytes.subarray(start, end);
    const first = start === 0;
    start = end + 1;
    if (first && line[0] === 0x23) {
      if (!line.subarray(0, HEADER.length).equals(HEADER)) return null;
      continue;
    }
    if (line[0] === 0x5e) {
      // A peeled line belongs to the ref line right above it, once.
      if (!peelable || !OBJECT_ID.test(line.toString('latin1', 1))) return null;
      peelable = false;
      continue;
    }
    const space = line.indexOf(0x20);
    const name = line.subarray(space + 1);
    if (space < 0 || !OBJECT_ID.test(line.toString('latin1', 0, space))) return null;
    if (name.length <= REFS.length || !name.subarray(0, REFS.length).equals(REFS) || name.includes(0x00)) return null;
    // Sorted and unique, as git writes it: a name out of order or repeated is a file git did not just write.
    if (previous && Buffer.compare(previous, name) >= 0) return null;
    previous = name;
    refs[refKeyFromBytes(name)] = line.toString('latin1', 0, space);
    peelable = true;
  }
  return refs;
}

/**
 * The refs of the repository at `dir` when all of them are packed (the caller has seen no loose ref under refs/):
 * its packed-refs file, none when there is none; null when the file is not one git wrote. Read in one synchronous
 * call (src/small-fs.ts): a packed-refs file is about 100 bytes a ref.
 */
export async function readPackedRefsFile(dir: string): Promise<RefMap | null> {
  try {
    return parsePackedRefs(readFileSync(join(dir, 'packed-refs')));
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? {} : null;
  }
}
