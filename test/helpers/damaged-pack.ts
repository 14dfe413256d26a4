// Damage a real object inside a real pack, the way a failing disk would: one byte flipped in the middle of the
// object's data, found through the pack's own index. Used by the restore checks (test/restore-verify.test.ts,
// test/store-large-pack.test.ts).
import { execFileSync } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Flip one byte in the middle of `oid`'s data inside the repository's one pack that holds it; returns that pack. */
export function corruptObjectInPack(repo: string, oid: string): string {
  const packDir = join(repo, 'objects/pack');
  for (const idx of readdirSync(packDir).filter((n) => n.endsWith('.idx'))) {
    // "<offset> <oid> (<crc>)" for every object, in oid order.
    const entries = execFileSync('git', ['show-index'], { input: readFileSync(join(packDir, idx)) })
      .toString()
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' '))
      .map(([offset, id]) => ({ offset: Number(offset), id: id! }))
      .sort((a, b) => a.offset - b.offset);
    const at = entries.findIndex((e) => e.id === oid);
    if (at < 0) continue;
    const pack = join(packDir, idx.replace(/\.idx$/, '.pack'));
    const bytes = readFileSync(pack);
    const end = entries[at + 1]?.offset ?? bytes.length - 20;
    const middle = Math.floor((entries[at]!.offset + end) / 2);
    bytes[middle] = bytes[middle]! ^ 0xff;
    chmodSync(pack, 0o644);
    writeFileSync(pack, bytes);
    chmodSync(pack, 0o444);
    return pack;
  }
  throw new Error(`${oid} is in no pack of ${repo}`);
}
