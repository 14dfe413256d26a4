// Archives with a real bare repository and real git, and hostile archives built header by header: extraction
// must refuse every escape and leave nothing behind.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractArchive, sha256File, writeArchive, type ExtractCaps } from '../src/archive.ts';
import { BackupError, UsageError } from '../src/errors.ts';
import { METADATA_FORMAT, serializeMetadata, type SnapshotMetadata } from '../src/metadata.ts';

let work: string;
let snapshotDir: string;
let linkedPack: string;
let longRef: string;

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.com',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.com',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
    },
  });

const refsOf = (repo: string) => git(repo, 'for-each-ref', '--format=%(objectname) %(refname)');

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'gpb-archive-'));
  const upstream = join(work, 'upstream.git');
  const clone = join(work, 'clone');
  git(work, 'init', '--bare', '-b', 'main', upstream);
  git(work, 'clone', upstream, clone);
  for (let i = 1; i <= 3; i++) {
    writeFileSync(join(clone, `file${i}.txt`), `content ${i}\n`.repeat(100 * i));
    git(clone, 'add', '.');
    git(clone, 'commit', '-m', `commit ${i}`);
  }
  git(clone, 'tag', '-a', 'v1', '-m', 'release');
  git(clone, 'checkout', '-b', 'feature');
  writeFileSync(join(clone, 'feature.txt'), 'feature\n');
  git(clone, 'add', '.');
  git(clone, 'commit', '-m', 'feature work');
  git(clone, 'push', '--all');
  git(clone, 'push', '--tags');

  // A snapshot-shaped directory: a bare mirror with one pack, plus snapshot.json.
  snapshotDir = join(work, 'snapshots', 'snapshot-20260301-120000');
  mkdirSync(dirname(snapshotDir), { recursive: true });
  git(work, 'clone', '--mirror', upstream, snapshotDir);
  git(snapshotDir, 'repack', '-a', '-d');
  // A loose ref whose path is far beyond ustar's 100 bytes: it must travel in a pax header.
  longRef = `refs/heads/${'deeply-nested/'.repeat(8)}${'x'.repeat(120)}`;
  git(snapshotDir, 'update-ref', longRef, 'HEAD');
  writeFileSync(join(snapshotDir, 'snapshot.json'), JSON.stringify({ name: basename(snapshotDir) }));
  chmodSync(join(snapshotDir, 'snapshot.json'), 0o444); // snapshots are read-only
  // Two names for one inode inside the snapshot: the archive must store the second as a link entry.
  const packDir = join(snapshotDir, 'objects', 'pack');
  const pack = readdirSync(packDir).find((f) => f.endsWith('.pack'))!;
  linkedPack = join('objects', 'pack', pack);
  linkSync(join(packDir, pack), join(packDir, pack.replace(/\.pack$/, '.keep')));
  // Like every object file of a real snapshot, the index also has a name outside it (the mirror's):
  // it must be archived as a plain file, never as a link to something the archive does not contain.
  linkSync(join(packDir, pack.replace(/\.pack$/, '.idx')), join(work, 'mirror-copy.idx'));
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

let n = 0;
const fresh = (name: string) => join(work, `${name}-${++n}`);

describe('writeArchive + extractArchive', () => {
  it('round-trips a bare repository: fsck-clean, same refs, hard links preserved', async () => {
    const out = join(fresh('archives'), 'owner', 'repo', 'snapshot-20260301-120000.tar.gz');
    const written = await writeArchive(snapshotDir, out);
    expect(written.file).toBe(out);
    expect(written.sizeBytes).toBe(statSync(out).size);
    expect(written.sha256).toBe(await sha256File(out));
    // The sidecar is in sha256sum format: the standard tool accepts it.
    expect(readFileSync(`${out}.sha256`, 'utf8')).toBe(`${written.sha256}  ${basename(out)}\n`);
    execFileSync('sha256sum', ['-c', `${basename(out)}.sha256`], { cwd: dirname(out), stdio: 'pipe' });
    // Nothing but the archive and its sidecar in the output directory (no temp file left).
    expect(readdirSync(dirname(out)).sort()).toEqual([basename(out), `${basename(out)}.sha256`]);

    // Entries are under the snapshot's name, with no owner information, and the second name is a link entry.
    const listing = execFileSync('tar', ['-tvzf', out], { encoding: 'utf8' });
    expect(listing.split('\n').filter(Boolean).every((l) => l.includes(' snapshot-20260301-120000/'))).toBe(true);
    expect(listing).toMatch(/^h.* snapshot-20260301-120000\/objects\/pack\/pack-\w+\.(keep|pack) link to snapshot-20260301-120000\/objects\/pack\/pack-\w+\.(keep|pack)$/m);
    expect(listing).toMatch(/ 0\/0 /);
    expect(listing).toMatch(/^-.* snapshot-20260301-120000\/objects\/pack\/pack-\w+\.idx$/m);

    const dest = fresh('restore');
    const extracted = await extractArchive(out, dest);
    expect(extracted.topDir).toBe(join(dest, 'snapshot-20260301-120000'));
    expect(extracted.entries).toBeGreaterThan(10);
    git(extracted.topDir, 'fsck', '--full', '--strict');
    expect(refsOf(extracted.topDir)).toBe(refsOf(snapshotDir));
    expect(refsOf(extracted.topDir)).toContain('refs/heads/feature');
    expect(existsSync(join(extracted.topDir, longRef))).toBe(true);
    const pack = statSync(join(extracted.topDir, linkedPack));
    const keep = statSync(join(extracted.topDir, linkedPack.replace(/\.pack$/, '.keep')));
    expect(keep.ino).toBe(pack.ino);
    expect(pack.nlink).toBe(2);
    expect(readFileSync(join(extracted.topDir, 'snapshot.json'), 'utf8')).toContain('snapshot-20260301-120000');
    // No temporary extraction directory left beside the destination.
    expect(readdirSync(dirname(dest)).filter((f) => f.startsWith(`${basename(dest)}.tmp-`))).toEqual([]);
  });

  it('refuses to overwrite an existing archive', async () => {
    const out = join(fresh('archives'), 'a.tar.gz');
    const first = await writeArchive(snapshotDir, out);
    await expect(writeArchive(snapshotDir, out)).rejects.toThrow(UsageError);
    expect(await sha256File(out)).toBe(first.sha256);
    expect(readdirSync(dirname(out)).sort()).toEqual(['a.tar.gz', 'a.tar.gz.sha256']);
  });

  it('writes both files or neither: a sidecar that cannot be written leaves no archive, and a retry succeeds', async () => {
    const out = join(fresh('archives'), 'b.tar.gz');
    mkdirSync(`${out}.sha256`, { recursive: true }); // a directory where the sidecar must go: rename(2) fails for real
    const error = (await writeArchive(snapshotDir, out).catch((e: unknown) => e)) as BackupError;
    expect(error).toBeInstanceOf(BackupError);
    expect(error).not.toBeInstanceOf(UsageError);
    expect(error.message).toContain(`cannot write checksum file ${out}.sha256`);
    expect(error.message).toContain('the archive was not kept');
    // Neither the archive under its final name nor any temporary file.
    expect(readdirSync(dirname(out))).toEqual(['b.tar.gz.sha256']);
    expect(statSync(`${out}.sha256`).isDirectory()).toBe(true);

    rmSync(`${out}.sha256`, { recursive: true });
    const written = await writeArchive(snapshotDir, out);
    expect(readdirSync(dirname(out)).sort()).toEqual(['b.tar.gz', 'b.tar.gz.sha256']);
    execFileSync('sha256sum', ['-c', 'b.tar.gz.sha256'], { cwd: dirname(out), stdio: 'pipe' });
    expect(written.sha256).toBe(await sha256File(out));
  });

  it('refuses to export something that is not a directory', async () => {
    await expect(writeArchive(join(work, 'nope'), join(fresh('archives'), 'x.tar.gz'))).rejects.toThrow(UsageError);
  });

  it('detects a tampered archive by its checksum and extracts nothing', async () => {
    const out = join(fresh('archives'), 't.tar.gz');
    const written = await writeArchive(snapshotDir, out);
    const bytes = readFileSync(out);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    writeFileSync(out, bytes);
    const dest = fresh('restore');
    const error = (await extractArchive(out, dest).catch((e: unknown) => e)) as BackupError;
    expect(error).toBeInstanceOf(BackupError);
    expect(error.exitCode).toBe(1);
    expect(error.message).toContain(written.sha256);
    expect(error.message).toContain(await sha256File(out));
    expect(existsSync(dest)).toBe(false);
  });

  it('extracts without a sidecar, and into an existing empty directory', async () => {
    const out = join(fresh('archives'), 's.tar.gz');
    await writeArchive(snapshotDir, out);
    rmSync(`${out}.sha256`);
    const dest = fresh('restore');
    mkdirSync(dest);
    const { topDir } = await extractArchive(out, dest);
    expect(refsOf(topDir)).toBe(refsOf(snapshotDir));
  });

  it('refuses a non-empty destination', async () => {
    const out = join(fresh('archives'), 'n.tar.gz');
    await writeArchive(snapshotDir, out);
    const dest = fresh('restore');
    mkdirSync(dest);
    writeFileSync(join(dest, 'precious'), 'keep me');
    await expect(extractArchive(out, dest)).rejects.toThrow(UsageError);
    expect(readdirSync(dest)).toEqual(['precious']);
  });
});

// ---- hostile archives ---------------------------------------------------------------------------------------

interface RawEntry {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'FIFO';
  linkpath?: string;
  body?: string;
}

/** A gzip tar written header by header, so nothing sanitises the paths on the way in. */
function rawArchive(file: string, entries: RawEntry[]): string {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const type = e.type ?? 'File';
    const header = new Header({
      path: e.path,
      type,
      linkpath: e.linkpath,
      size: type === 'File' ? body.length : 0,
      mode: type === 'Directory' ? 0o755 : 0o644,
      mtime: new Date('2026-01-01T00:00:00Z'),
      uid: 0,
      gid: 0,
    });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block);
    if (type === 'File' && body.length > 0) {
      blocks.push(Buffer.concat([body, Buffer.alloc((512 - (body.length % 512)) % 512)]));
    }
  }
  blocks.push(Buffer.alloc(1024));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, gzipSync(Buffer.concat(blocks)));
  return file;
}

describe('extractArchive refuses hostile archives', () => {
  let outside: string;
  beforeAll(() => {
    outside = join(work, 'outside');
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'target'), 'outside file\n');
  });

  const prelude: RawEntry[] = [
    { path: 'snapshot-20260301-120000/', type: 'Directory' },
    { path: 'snapshot-20260301-120000/HEAD', body: 'ref: refs/heads/main\n' },
  ];

  const absoluteVictim = () => join(tmpdir(), `gpb-evil-${process.pid}-${n}`);
  const cases: { name: string; entries: () => RawEntry[]; mentions: string }[] = [
    {
      name: 'a ../ path',
      entries: () => [...prelude, { path: 'snapshot-20260301-120000/../evil', body: 'x' }],
      mentions: '".."',
    },
    {
      name: 'a bare ../ path at the top',
      entries: () => [...prelude, { path: '../evil', body: 'x' }],
      mentions: '".."',
    },
    {
      name: 'an absolute path',
      entries: () => [...prelude, { path: absoluteVictim(), body: 'x' }],
      mentions: 'absolute path',
    },
    {
      name: 'a symlink to an absolute directory, then a file through it',
      entries: () => [
        ...prelude,
        { path: 'snapshot-20260301-120000/link', type: 'SymbolicLink', linkpath: outside },
        { path: 'snapshot-20260301-120000/link/pwned', body: 'x' },
      ],
      mentions: 'is absolute',
    },
    {
      name: 'a symlink to /etc, then link/passwd',
      entries: () => [
        ...prelude,
        { path: 'snapshot-20260301-120000/link', type: 'SymbolicLink', linkpath: '/etc' },
        { path: 'snapshot-20260301-120000/link/passwd', body: 'root::0:0::/:/bin/sh\n' },
      ],
      mentions: 'is absolute',
    },
    {
      name: 'a relative symlink that escapes',
      entries: () => [
        ...prelude,
        { path: 'snapshot-20260301-120000/sub/', type: 'Directory' },
        { path: 'snapshot-20260301-120000/sub/l', type: 'SymbolicLink', linkpath: '../../outside' },
      ],
      mentions: 'escapes the archive',
    },
    {
      name: 'a symlink whose target runs through another symlink ("a -> ." then "b -> a/..")',
      entries: () => [
        ...prelude,
        { path: 'snapshot-20260301-120000/a', type: 'SymbolicLink', linkpath: '.' },
        { path: 'snapshot-20260301-120000/b', type: 'SymbolicLink', linkpath: 'a/..' },
      ],
      mentions: 'through another symlink',
    },
    {
      name: 'a hard link to ../../outside',
      entries: () => [
        ...prelude,
        { path: 'snapshot-20260301-120000/hl', type: 'Link', linkpath: '../../outside/target' },
      ],
      mentions: 'hard link target',
    },
    {
      name: 'a hard link to an absolute file',
      entries: () => [...prelude, { path: 'snapshot-20260301-120000/hl', type: 'Link', linkpath: join(outside, 'target') }],
      mentions: 'hard link target',
    },
    {
      name: 'entries under two top directories',
      entries: () => [...prelude, { path: 'other/file', body: 'x' }],
      mentions: 'single top directory',
    },
    {
      name: 'a character device',
      entries: () => [...prelude, { path: 'snapshot-20260301-120000/null', type: 'CharacterDevice' }],
      mentions: 'CharacterDevice',
    },
    {
      name: 'a fifo',
      entries: () => [...prelude, { path: 'snapshot-20260301-120000/fifo', type: 'FIFO' }],
      mentions: 'FIFO',
    },
  ];

  for (const c of cases) {
    it(`rejects ${c.name}, writing nothing anywhere`, async () => {
      const archive = rawArchive(join(fresh('evil'), 'evil.tar.gz'), c.entries());
      const parent = fresh('dest-parent');
      const dest = join(parent, 'restore');
      const passwdBefore = readFileSync('/etc/passwd', 'utf8');
      const error = (await extractArchive(archive, dest).catch((e: unknown) => e)) as BackupError;
      expect(error).toBeInstanceOf(BackupError);
      expect(error).not.toBeInstanceOf(UsageError);
      expect(error.message).toContain('refusing unsafe archive');
      expect(error.message).toContain(c.mentions);
      // Nothing half-extracted: neither the destination nor a temporary directory beside it.
      expect(existsSync(dest)).toBe(false);
      expect(existsSync(parent) ? readdirSync(parent) : []).toEqual([]);
      // Nothing outside either.
      expect(readdirSync(outside)).toEqual(['target']);
      expect(statSync(join(outside, 'target')).nlink).toBe(1);
      expect(existsSync(join(dirname(parent), 'evil'))).toBe(false);
      expect(existsSync(absoluteVictim())).toBe(false);
      expect(readFileSync('/etc/passwd', 'utf8')).toBe(passwdBefore);
    });
  }

  it('keeps what is harmless: an in-tree relative symlink and an in-tree hard link', async () => {
    const archive = rawArchive(join(fresh('ok'), 'ok.tar.gz'), [
      ...prelude,
      { path: 'snapshot-20260301-120000/refs/', type: 'Directory' },
      { path: 'snapshot-20260301-120000/refs/link', type: 'SymbolicLink', linkpath: '../HEAD' },
      { path: 'snapshot-20260301-120000/HEAD2', type: 'Link', linkpath: 'snapshot-20260301-120000/HEAD' },
    ]);
    const dest = fresh('restore');
    const { topDir, entries } = await extractArchive(archive, dest);
    expect(entries).toBe(5);
    expect(readFileSync(join(topDir, 'refs', 'link'), 'utf8')).toBe('ref: refs/heads/main\n');
    expect(statSync(join(topDir, 'HEAD2')).ino).toBe(statSync(join(topDir, 'HEAD')).ino);
  });

  it('reports a corrupt (non-tar) file as a failure, not a crash', async () => {
    const file = join(fresh('junk'), 'junk.tar.gz');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, gzipSync(Buffer.from('this is not a tar archive at all'.repeat(40))));
    const dest = fresh('restore');
    await expect(extractArchive(file, dest)).rejects.toThrow(BackupError);
    expect(existsSync(dest)).toBe(false);
  });
});

// ---- caps on what an archive may extract ----------------------------------------------------------------------

const TOP = 'snapshot-20260301-120000';

function block(path: string, type: 'File' | 'Directory', size = 0): Buffer {
  const out = Buffer.alloc(512);
  new Header({ path, type, size, mode: type === 'Directory' ? 0o755 : 0o644, mtime: new Date('2026-01-01T00:00:00Z') }).encode(out, 0);
  return out;
}

const padded = (body: Buffer) => Buffer.concat([body, Buffer.alloc((512 - (body.length % 512)) % 512)]);

/** A valid snapshot.json recording `files` (path -> size). */
function metadataRecording(files: Record<string, number>): Buffer {
  const metadata: SnapshotMetadata = {
    format: METADATA_FORMAT,
    tool: { name: 'github-private-backup', version: '0.0.0-test' },
    repository: 'acme/widgets',
    sourceUrl: 'https://github.com/acme/widgets.git',
    name: TOP,
    createdAt: '2026-03-01T12:00:00.000Z',
    head: null,
    headRef: null,
    refs: {},
    counts: { refs: 0, branches: 0, tags: 0, files: Object.keys(files).length, linkedFiles: 0, copiedFiles: Object.keys(files).length },
    sizes: { totalBytes: Object.values(files).reduce((a, b) => a + b, 0), linkedBytes: 0, copiedBytes: 0 },
    files: Object.fromEntries(Object.entries(files).map(([path, size]) => [path, { sha256: '0'.repeat(64), size }])),
  };
  return Buffer.from(serializeMetadata(metadata));
}

/** Blocks for a top directory and (optionally) snapshot.json recording `recorded`, then whatever follows. */
function craft(file: string, recorded: Record<string, number> | undefined, rest: Buffer[], options: { end?: boolean } = {}): string {
  const head = [block(`${TOP}/`, 'Directory')];
  if (recorded) {
    const json = metadataRecording(recorded);
    head.push(block(`${TOP}/snapshot.json`, 'File', json.length), padded(json));
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, gzipSync(Buffer.concat([...head, ...rest, ...(options.end === false ? [] : [Buffer.alloc(1024)])]), { level: 1 }));
  return file;
}

const GIB = 1024 * 1024 * 1024;

describe('extractArchive caps what an archive may extract', () => {
  async function refused(archive: string, caps: ExtractCaps = {}): Promise<{ message: string; parent: string }> {
    const parent = fresh('dest-parent');
    const dest = join(parent, 'restore');
    const error = (await extractArchive(archive, dest, caps).catch((e: unknown) => e)) as BackupError;
    expect(error).toBeInstanceOf(BackupError);
    expect(error).not.toBeInstanceOf(UsageError);
    // Nothing half-extracted: neither the destination nor the staging directory beside it.
    expect(existsSync(dest)).toBe(false);
    expect(readdirSync(parent)).toEqual([]);
    return { message: error.message, parent };
  }

  it('export writes snapshot.json as the first entry after the top directory', async () => {
    const out = join(fresh('archives'), 'first.tar.gz');
    await writeArchive(snapshotDir, out);
    const names = execFileSync('tar', ['-tzf', out], { encoding: 'utf8' }).split('\n');
    expect(names.slice(0, 2)).toEqual([`${TOP}/`, `${TOP}/snapshot.json`]);
    expect(names.filter((n) => n.endsWith('snapshot.json'))).toHaveLength(1);
  });

  it('an entry claiming 10 GiB of zeros is refused at its header, against the sizes snapshot.json records', async () => {
    // 8 MiB of the promised 10 GiB follow, then the file simply ends: had the header been believed, extraction
    // would have written those 8 MiB and then failed on the truncation instead.
    const archive = craft(join(fresh('bomb'), 'bomb.tar.gz'), { HEAD: 21, 'objects/pack/pack-0.pack': 4096 }, [
      block(`${TOP}/HEAD`, 'File', 21),
      padded(Buffer.from('ref: refs/heads/main\n')),
      block(`${TOP}/objects/`, 'Directory'),
      block(`${TOP}/objects/pack/`, 'Directory'),
      block(`${TOP}/objects/pack/pack-0.pack`, 'File', 10 * GIB),
      Buffer.alloc(8 * 1024 * 1024),
    ], { end: false });
    expect(statSync(archive).size).toBeLessThan(200_000);
    const recordedLimit = metadataRecording({ HEAD: 21, 'objects/pack/pack-0.pack': 4096 }).length + 21 + 4096;
    const { message } = await refused(archive);
    expect(message).toContain(`"${TOP}/objects/pack/pack-0.pack" claims 10,737,418,240 bytes`);
    expect(message).toContain(`limit of ${recordedLimit.toLocaleString('en-US')} bytes (the sizes its snapshot.json records)`);
    // What had been extracted when it stopped: snapshot.json and HEAD, within the cap.
    const extracted = Number(/after the ([\d,]+) bytes/.exec(message)![1]!.replace(/,/g, ''));
    expect(extracted).toBe(recordedLimit - 4096);
    expect(message).not.toMatch(/cannot read archive|unexpected end|truncated/i);
  });

  it('without snapshot.json first, the cap is a multiple of the archive size (a zero bomb shrinks far more)', async () => {
    const archive = craft(join(fresh('bomb'), 'bare-bomb.tar.gz'), undefined, [block(`${TOP}/zeros`, 'File', 10 * GIB), Buffer.alloc(4 * 1024 * 1024)], { end: false });
    const { message } = await refused(archive);
    expect(message).toContain(`"${TOP}/zeros" claims 10,737,418,240 bytes`);
    expect(message).toContain("(20 times the archive's size plus 16,777,216 bytes)");
  });

  it('counts every file against the total: the file that would pass the cap is refused before it is written', async () => {
    // Two real files of zeros; the caller's cap falls inside the second.
    const mib = 1024 * 1024;
    const archive = craft(join(fresh('bomb'), 'two.tar.gz'), undefined, [
      block(`${TOP}/a`, 'File', mib),
      Buffer.alloc(mib),
      block(`${TOP}/b`, 'File', 3 * mib),
      Buffer.alloc(3 * mib),
    ]);
    const { message } = await refused(archive, { maxBytes: 2 * mib });
    expect(message).toContain(`"${TOP}/b" claims 3,145,728 bytes`);
    expect(message).toContain("limit of 2,097,152 bytes (the caller's limit) after the 1,048,576 bytes extracted before it");
  });

  it('refuses more entries than snapshot.json accounts for', async () => {
    // Two recorded files (refs and refs/heads their parents): room for 2 + 2 + 2 + 64 entries, not 200 more.
    const extra = Array.from({ length: 200 }, (_, i) => block(`${TOP}/refs/heads/flood-${i}/`, 'Directory'));
    const archive = craft(join(fresh('many'), 'many.tar.gz'), { HEAD: 0, 'refs/heads/main': 0 }, [block(`${TOP}/HEAD`, 'File', 0), ...extra]);
    const { message } = await refused(archive);
    expect(message).toContain('it has more than 70 entries (the files its snapshot.json records)');
  });

  it('refuses too many entries against the fixed cap, here lowered through the parameter', async () => {
    const files = Array.from({ length: 60 }, (_, i) => block(`${TOP}/f${i}`, 'File', 0));
    const archive = craft(join(fresh('many'), 'fixed.tar.gz'), undefined, files);
    const { message } = await refused(archive, { maxEntries: 50 });
    expect(message).toContain("it has more than 50 entries (the caller's limit)");
    // Under the real fixed cap (100,000) the same archive extracts.
    const dest = fresh('restore');
    expect((await extractArchive(archive, dest)).entries).toBe(61);
  });

  it('refuses a path deeper than the fixed depth limit', async () => {
    const deep = Array.from({ length: 40 }, (_, i) => `d${i}`);
    const dirs = deep.map((_, i) => block(`${TOP}/${deep.slice(0, i + 1).join('/')}/`, 'Directory'));
    const archive = craft(join(fresh('deep'), 'deep.tar.gz'), undefined, dirs);
    const { message } = await refused(archive);
    expect(message).toContain(`"${TOP}/${deep.slice(0, 32).join('/')}" is 33 levels deep, over the limit of 32 (the fixed limit for an archive whose first entry is not snapshot.json)`);
  });

  it('a snapshot.json recording deep paths allows them', async () => {
    const deep = Array.from({ length: 40 }, (_, i) => `d${i}`).join('/');
    const archive = craft(join(fresh('deep'), 'deep-ok.tar.gz'), { [`refs/heads/${deep}`]: 0 }, [block(`${TOP}/refs/heads/${deep}`, 'File', 0)]);
    const { topDir } = await extractArchive(archive, fresh('restore'));
    expect(existsSync(join(topDir, 'refs', 'heads', deep))).toBe(true);
  });
});

describe('extractArchive write failures', () => {
  it('an entry colliding with a directory made for an earlier one is a clear failure, leaving nothing', async () => {
    // "top/a/b" makes the directory top/a; a file "top/a" then cannot be created.
    const archive = craft(join(fresh('clash'), 'clash.tar.gz'), undefined, [block(`${TOP}/a/b`, 'File', 0), block(`${TOP}/a`, 'File', 0)]);
    const parent = fresh('dest-parent');
    const error = (await extractArchive(archive, join(parent, 'restore')).catch((e: unknown) => e)) as BackupError;
    expect(error).toBeInstanceOf(BackupError);
    expect(error.message).toMatch(/cannot extract archive .*EEXIST.*nothing was kept/);
    expect(readdirSync(parent)).toEqual([]);
  });
});
