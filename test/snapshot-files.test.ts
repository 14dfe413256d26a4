// Which files a snapshot may share with the live mirror (docs/ARCHITECTURE.md invariant 2). Sharing a file that git rewrites
// in place would let a later fetch change an old snapshot; carrying a hook would let a snapshot run code.
import { describe, expect, it } from 'vitest';
import { isSkippedDir, METADATA_FILE, snapshotFileTreatment, treatmentOf } from '../src/snapshot-files.ts';

const SHA1 = '0123456789abcdef0123456789abcdef01234567';
const SHA256 = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';

describe('treatmentOf: hard-linked (written once, renamed into place, never modified)', () => {
  it.each([
    `objects/pack/pack-${SHA1}.pack`,
    `objects/pack/pack-${SHA1}.idx`,
    `objects/pack/pack-${SHA1}.rev`,
    `objects/pack/pack-${SHA1}.bitmap`,
    `objects/pack/pack-${SHA1}.mtimes`,
    `objects/pack/pack-${SHA1}.promisor`,
    `objects/pack/pack-${SHA256}.pack`, // sha256 repositories
    `objects/ab/${SHA1.slice(2)}`,
    `objects/ab/${SHA256.slice(2)}`,
    `lfs/objects/01/23/${SHA256}`, // git-lfs's objects, named by the sha256 of their content
  ])('%s', (rel) => {
    expect(treatmentOf(rel)).toBe('link');
  });
});

describe('treatmentOf: left out', () => {
  it.each([
    'FETCH_HEAD', // truncated and rewritten in place on every fetch
    'packed-refs.lock',
    'refs/heads/main.lock',
    'config.lock',
    `objects/pack/pack-${SHA1}.keep.lock`,
    'objects/pack/tmp_pack_abc123',
    'objects/pack/tmp_idx_abc123',
    'objects/ab/tmp_obj_xyz',
    'objects/pack/.tmp-1234-pack-abc.pack',
    'objects/incoming-aB3dE/pack/pack-x.pack', // quarantine of an unfinished receive
    'objects/incoming-aB3dE',
    'objects/tmp_objdir-incoming-aB3dE/pack/pack-x.pack', // the same quarantine, as newer git names it
    'objects/info/commit-graphs/tmp_graph_abc',
    'hooks/pre-receive',
    'hooks/post-checkout.sample',
    'hooks',
    'objects/info/alternates', // would make the snapshot depend on another repository's objects
    'objects/info/http-alternates',
    'gc.pid',
    'gc.log',
    METADATA_FILE, // written by the snapshot itself, never taken from the source
    'lfs/tmp/0123-download', // git-lfs's scratch: partial downloads, error logs
    'lfs/logs/20261201T020000.log',
    'lfs/incomplete/abc',
  ])('%s', (rel) => {
    expect(treatmentOf(rel)).toBe('skip');
  });

  it('walks no git-lfs scratch directory, and every LFS object', () => {
    expect(['lfs/tmp', 'lfs/logs'].map(isSkippedDir)).toEqual([true, true]);
    expect(['lfs', 'lfs/objects', 'lfs/objects/01/23'].map(isSkippedDir)).toEqual([false, false, false]);
  });
});

describe('treatmentOf: copied (git may rewrite or append to them in place)', () => {
  it.each([
    'packed-refs',
    'config',
    'HEAD',
    'description',
    'info/exclude',
    'refs/heads/main',
    'refs/tags/v1.0',
    'logs/HEAD', // reflogs are appended in place
    'logs/refs/heads/main',
    'objects/info/packs',
    'objects/info/commit-graph',
    'objects/info/commit-graphs/commit-graph-chain',
    'objects/pack/multi-pack-index',
    `objects/pack/pack-${SHA1}.keep`,
    'shallow',
    'ORIG_HEAD',
  ])('%s', (rel) => {
    expect(treatmentOf(rel)).toBe('copy');
  });
});

describe('treatmentOf: near misses are not linked', () => {
  it.each([
    'objects/pack/pack-xyz.pack', // not a hash
    `objects/pack/pack-${SHA1}.pack.old`,
    `objects/abc/${SHA1.slice(3)}`, // three-character fan-out directory
    `objects/ab/${SHA1.slice(2, 20)}`, // too short for a hash
    `refs/heads/pack-${SHA1}.pack`, // a branch named like a pack
    `objects/AB/${SHA1.slice(2).toUpperCase()}`,
    `lfs/objects/01/23/${SHA1}`, // an LFS oid is a sha256
    `refs/heads/lfs/objects/01/23/${SHA256}`, // a branch named like an LFS object
    'refs/heads/lfs/tmp/x', // ...or like git-lfs's scratch
  ])('%s is copied, not shared', (rel) => {
    expect(treatmentOf(rel)).toBe('copy');
  });

  it('a branch called hooks or FETCH_HEAD is not mistaken for the real thing', () => {
    expect(treatmentOf('refs/heads/hooks')).toBe('copy');
    expect(treatmentOf('refs/heads/FETCH_HEAD')).toBe('copy');
  });

  it.each(['refs/heads/tmp_fix', 'refs/heads/tmp-two', 'refs/tags/tmp_release', 'refs/heads/feature/tmp_x', 'logs/refs/heads/tmp_fix'])(
    'a ref named like a temporary file, %s, is kept (leaving it out dropped the branch from every snapshot)',
    (rel) => {
      expect(treatmentOf(rel)).toBe('copy');
    },
  );
});

describe('isSkippedDir', () => {
  it('prunes hooks/, quarantine directories and a snapshot\'s github-metadata/ from the walk, nothing else', () => {
    expect(isSkippedDir('hooks')).toBe(true);
    expect(isSkippedDir('github-metadata')).toBe(true);
    expect(isSkippedDir('refs/heads/github-metadata')).toBe(false);
    expect(isSkippedDir('objects/incoming-xyz')).toBe(true);
    expect(isSkippedDir('objects/tmp_objdir-incoming-xyz')).toBe(true);
    expect(isSkippedDir('objects')).toBe(false);
    expect(isSkippedDir('refs/heads/hooks')).toBe(false);
    expect(isSkippedDir('logs')).toBe(false);
  });
});

// A snapshot directory also holds its GitHub metadata (docs/METADATA_FORMAT.md "In a snapshot"): exactly the
// metadata repository's files by the same rules, and assets named by their sha256. A repository built from a
// snapshot (restore, hydrate) never takes any of it.
describe('snapshotFileTreatment: the github-metadata/ subtree', () => {
  it.each([
    [`github-metadata/repo.git/objects/ab/${SHA1.slice(2)}`, 'link'],
    [`github-metadata/repo.git/objects/pack/pack-${SHA1}.pack`, 'link'],
    [`github-metadata/assets/${SHA256}`, 'link'],
    ['github-metadata/repo.git/HEAD', 'copy'],
    ['github-metadata/repo.git/config', 'copy'],
    ['github-metadata/repo.git/refs/heads/main', 'copy'],
    ['github-metadata/repo.git/packed-refs', 'copy'],
    ['github-metadata/repo.git/hooks/post-update', 'skip'],
    ['github-metadata/repo.git/objects/info/alternates', 'skip'],
    ['github-metadata/repo.git/refs/heads/main.lock', 'skip'],
    [`github-metadata/assets/${SHA256.toUpperCase()}`, 'skip'],
    [`github-metadata/assets/${SHA1}`, 'skip'],
    [`github-metadata/assets/${SHA256}/x`, 'skip'],
    ['github-metadata/README', 'skip'],
    ['github-metadata/repo.git', 'skip'],
    ['github-metadata', 'skip'],
    ['config', 'copy'],
    [`objects/pack/pack-${SHA1}.pack`, 'link'],
  ])('%s: %s', (rel, treatment) => {
    expect(snapshotFileTreatment(rel)).toBe(treatment);
  });

  it('is never part of a bare repository', () => {
    expect(treatmentOf(`github-metadata/assets/${SHA256}`)).toBe('skip');
    expect(treatmentOf('github-metadata/repo.git/HEAD')).toBe('skip');
    expect(treatmentOf('refs/heads/github-metadata')).toBe('copy');
  });
});
