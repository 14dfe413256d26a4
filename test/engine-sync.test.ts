// Scenarios a backup must survive, with real git: round trip, force-push, deleted branch, gc/repack in the
// mirror, awkward commit subjects, a wiped upstream, and a fetch that must not touch earlier snapshots.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from '../src/engine/index.ts';
import { ExitCode } from '../src/errors.ts';
import { MAX_PACKS } from '../src/engine/mirror.ts';
import { walkFiles } from '../src/fsutil.ts';
import { readMetadata } from '../src/metadata.ts';
import { treatmentOf } from '../src/snapshot-files.ts';
import { createBackup, createUpstream, fakeClock, git, okValue, refsOf, type Upstream } from './helpers/git-fixtures.ts';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function upstream(options?: { owner?: string; name?: string }): Upstream {
  const u = createUpstream(options);
  cleanups.push(u.cleanup);
  return u;
}

const snapshotDir = (root: string, id: string, name: string) => join(root, 'snapshots', id, name);

/** Every file of a directory with its content hash, mode and size. */
function fingerprint(dir: string): Promise<Record<string, string>> {
  return walkFiles(dir).then((files) =>
    Object.fromEntries(files.map((f) => [f.rel, `${createHash('sha256').update(readFileSync(f.abs)).digest('hex')} ${f.mode.toString(8)} ${f.size}`])),
  );
}

describe('sync', () => {
  it('mirrors every ref, snapshots, and restores a repository equal to upstream (round trip)', async () => {
    const u = upstream();
    git(u.work, 'notes', 'add', '-m', 'a note', 'HEAD');
    u.push('refs/notes/commits');
    const b = createBackup([u]);
    const init = okValue(await b.engine.init());
    expect(init.created).toBe(true);
    expect(okValue(await b.engine.init()).created).toBe(false); // idempotent

    const sync = okValue(await b.engine.sync());
    expect(sync.snapshot?.name).toMatch(/^snapshot-\d{8}-\d{6}$/);
    const upstreamRefs = refsOf(u.bare);
    expect(Object.keys(upstreamRefs)).toEqual(expect.arrayContaining(['refs/heads/main', 'refs/heads/feature', 'refs/tags/v1.0', 'refs/tags/v1.1', 'refs/notes/commits']));
    expect(refsOf(join(b.root, 'immutable/acme/widgets.git'))).toEqual(upstreamRefs);

    const meta = await readMetadata(sync.snapshot!.path);
    expect(meta.refs).toEqual(upstreamRefs);
    expect(meta.head?.subject).toBe('Merge feature');
    expect(meta.headRef).toBe('refs/heads/main');
    expect(meta.sourceUrl).toBe(u.bare);
    // A snapshot is a repository by itself: plain git can clone it.
    const clone = join(u.tmp, 'plain-clone');
    git(u.tmp, 'clone', '--quiet', sync.snapshot!.path, clone);
    expect(git(clone, 'log', '-1', '--format=%s').trim()).toBe('Merge feature');

    const verify = okValue(await b.engine.verify());
    expect(verify.snapshots[0]!.ok).toBe(true);

    const to = join(u.tmp, 'restored.git');
    const restored = okValue(await b.engine.restore({ to }));
    expect(restored.mode).toBe('to-dir');
    expect(refsOf(to)).toEqual(upstreamRefs);
    expect(() => git(to, 'fsck', '--full')).not.toThrow();

    // Nothing changed upstream: no new snapshot.
    const again = okValue(await b.engine.sync());
    expect(again.changed).toBe(false);
    expect(again.snapshot).toBeNull();
    expect(again.snapshotCount).toBe(1);
  });

  it('keeps the old commit in earlier snapshots after a force-push, and reports it as force-updated', async () => {
    const u = upstream();
    u.commit('doomed commit');
    u.push('main');
    const b = createBackup([u]);
    const first = okValue(await b.engine.sync()).snapshot!;
    const oldMain = refsOf(u.bare)['refs/heads/main'];

    git(u.work, 'reset', '--quiet', '--hard', 'HEAD~1');
    u.commit('rewritten history');
    u.push('--force', 'main');
    const second = okValue(await b.engine.sync());
    expect(second.changes.forceUpdated).toEqual(['refs/heads/main']);
    expect(second.snapshot).not.toBeNull();

    // After the mirror is garbage-collected, the old snapshot still has the overwritten commit.
    const mirror = join(b.root, 'immutable/acme/widgets.git');
    git(mirror, 'reflog', 'expire', '--expire=now', '--all');
    git(mirror, 'gc', '--quiet', '--prune=now');
    expect(() => git(mirror, 'cat-file', '-e', oldMain!)).toThrow();
    expect(git(first.path, 'cat-file', '-t', oldMain!).trim()).toBe('commit');
    expect(() => git(first.path, 'fsck', '--full', '--strict')).not.toThrow();
    const all = okValue(await b.engine.verify({ all: true }));
    expect(all.snapshots.map((s) => s.ok)).toEqual([true, true]);
  });

  it('prunes a deleted branch from the mirror while snapshots keep it', async () => {
    const u = upstream();
    const b = createBackup([u]);
    const first = okValue(await b.engine.sync()).snapshot!;
    u.push('--delete', 'feature');
    const second = okValue(await b.engine.sync());
    expect(second.changes.deleted).toEqual(['refs/heads/feature']);
    expect(refsOf(join(b.root, 'immutable/acme/widgets.git'))['refs/heads/feature']).toBeUndefined();
    expect(refsOf(first.path)['refs/heads/feature']).toBeDefined();
    expect((await readMetadata(second.snapshot!.path)).refs['refs/heads/feature']).toBeUndefined();
  });

  it('reports fast-forwards as updated and new refs as added', async () => {
    const u = upstream();
    const b = createBackup([u]);
    await b.engine.sync();
    u.commit('fast-forward');
    u.push('main');
    git(u.work, 'tag', 'v2.0');
    u.push('v2.0');
    const sync = okValue(await b.engine.sync());
    expect(sync.changes).toEqual({ added: ['refs/tags/v2.0'], updated: ['refs/heads/main'], forceUpdated: [], deleted: [] });
  });

  it('keeps every snapshot fsck-clean with its recorded refs after gc --prune=now and repack in the mirror', async () => {
    const u = upstream();
    const b = createBackup([u]);
    const names: string[] = [];
    for (let i = 0; i < 3; i++) {
      u.commit(`day ${i}`);
      u.push('main');
      git(u.work, 'branch', '-f', `topic-${i}`);
      u.push(`topic-${i}`);
      names.push(okValue(await b.engine.sync()).snapshot!.name);
    }
    const mirror = join(b.root, 'immutable/acme/widgets.git');
    git(mirror, 'repack', '-a', '-d', '-f', '--quiet');
    git(mirror, 'gc', '--quiet', '--prune=now', '--aggressive');
    for (const name of names) {
      const dir = snapshotDir(b.root, u.id, name);
      expect(() => git(dir, 'fsck', '--full', '--strict')).not.toThrow();
      expect(refsOf(dir)).toEqual((await readMetadata(dir)).refs);
    }
    const verify = okValue(await b.engine.verify({ all: true }));
    expect(verify.snapshots.every((s) => s.ok)).toBe(true);
  });

  it('records a commit subject with quotes, newlines and non-ASCII as valid JSON', async () => {
    const u = upstream();
    const subject = 'Fix "quoted" \\ back\\slash, tab\tand ünïcødé ✓ {"json": true}';
    git(u.work, 'commit', '--quiet', '--allow-empty', '-m', `${subject}\nsecond line of the subject paragraph\n\nbody with "quotes"\n`);
    u.push('main');
    const b = createBackup([u]);
    const snapshot = okValue(await b.engine.sync()).snapshot!;
    const text = readFileSync(join(snapshot.path, 'snapshot.json'), 'utf8');
    const parsed = JSON.parse(text);
    // %s joins the subject paragraph's lines with a space.
    expect(parsed.head.subject).toBe(`${subject} second line of the subject paragraph`);
    expect((await readMetadata(snapshot.path)).head?.subject).toBe(parsed.head.subject);
  });

  it('refuses an upstream that lost every ref: the mirror keeps them until --allow-ref-loss', async () => {
    const u = upstream();
    const b = createBackup([u]);
    await b.engine.sync();
    const mirror = join(b.root, 'immutable/acme/widgets.git');
    const before = refsOf(mirror);
    // Wipe upstream: delete every branch and tag.
    for (const ref of Object.keys(refsOf(u.bare))) git(u.bare, 'update-ref', '-d', ref);
    expect(refsOf(u.bare)).toEqual({});

    const refused = await b.engine.sync();
    expect(refused.exitCode).toBe(1);
    expect(refused.failed).toEqual(['acme/widgets']);
    expect(refused.outcomes[0]!.ok ? '' : refused.outcomes[0]!.error).toMatch(/upstream has no refs at all.*--allow-ref-loss/);
    expect(refsOf(mirror)).toEqual(before);
    const status = okValue(await b.engine.status());
    expect(status.health).toBe('failing');
    const health = await b.engine.health();
    expect(health.exitCode).toBe(1);
    expect(health.failed).toEqual(['acme/widgets']);

    const accepted = okValue(await b.engine.sync({ allowRefLoss: true }));
    expect(accepted.changes.deleted.sort()).toEqual(Object.keys(before).sort());
    expect(refsOf(mirror)).toEqual({});
    // The earlier snapshot still has everything.
    const list = okValue(await b.engine.list());
    expect(list.snapshots.length).toBe(2);
    expect(refsOf(list.snapshots[0]!.path)).toEqual(before);
  });

  it('leaves an earlier snapshot byte-for-byte unchanged by later fetches, gc and snapshots', async () => {
    const u = upstream();
    const b = createBackup([u]);
    const first = okValue(await b.engine.sync()).snapshot!;
    const before = await fingerprint(first.path);
    const mirror = join(b.root, 'immutable/acme/widgets.git');

    // Only object files may share an inode with the mirror; everything git rewrites in place is a copy.
    const mirrorFiles = await walkFiles(mirror);
    const mirrorInodes = new Map(mirrorFiles.map((f) => [`${f.dev}:${f.ino}`, f.rel]));
    for (const f of await walkFiles(first.path)) {
      const shared = mirrorInodes.get(`${f.dev}:${f.ino}`);
      if (shared) expect(treatmentOf(f.rel)).toBe('link');
    }

    for (let i = 0; i < 3; i++) {
      u.commit(`more ${i}`);
      git(u.work, 'tag', `t${i}`);
      u.push('main', `t${i}`);
      await b.engine.sync();
    }
    git(mirror, 'gc', '--quiet', '--prune=now');
    u.push('--delete', 'feature');
    await b.engine.sync();
    expect(await fingerprint(first.path)).toEqual(before);
    expect(statSync(first.path).mode & 0o222).toBe(0);
  });

  it('rolls many small packs together past the limit, and older snapshots keep theirs', async () => {
    const u = upstream();
    const b = createBackup([u]);
    const first = okValue(await b.engine.sync()).snapshot!;
    const mirror = join(b.root, 'immutable/acme/widgets.git');
    const packCount = () => readdirSync(join(mirror, 'objects/pack')).filter((n) => n.endsWith('.pack')).length;
    // Daily fetches one by one, each keeping its own pack (the mirror's fetch.unpackLimit=1).
    for (let i = 0; i <= MAX_PACKS; i++) {
      u.commit(`day ${i}`);
      u.push('main');
      git(mirror, 'fetch', '--quiet', 'origin');
    }
    expect(packCount()).toBeGreaterThan(MAX_PACKS);
    u.commit('one more');
    u.push('main');
    okValue(await b.engine.sync());
    expect(packCount()).toBeLessThan(10);
    const verify = okValue(await b.engine.verify({ all: true }));
    expect(verify.snapshots.map((s) => s.ok)).toEqual([true, true]);
    expect(verify.snapshots[0]!.name).toBe(first.name);
  });

  it('a sync stopped on request (a container restart) is not recorded as a failure', async () => {
    const u = upstream();
    const b = createBackup([u]);
    okValue(await b.engine.sync());
    u.commit('while the container restarts');
    u.push('main');
    const controller = new AbortController();
    controller.abort();
    const stopped = await createEngine({ settings: b.settings, signal: controller.signal }).sync();
    expect(stopped.exitCode).toBe(ExitCode.INTERRUPTED);
    expect(stopped.outcomes[0]!.ok ? '' : stopped.outcomes[0]!.error).toMatch(/stopped on request/);
    const status = okValue(await b.engine.status());
    expect(status.health).toBe('healthy');
    expect(status.lastSync?.ok).toBe(true);
    expect(status.snapshotCount).toBe(1);
  });

  it('is healthy within 26 hours of a successful sync and stale after', async () => {
    const u = upstream();
    const clock = fakeClock('2026-03-04T02:00:00Z', 0);
    const b = createBackup([u], {}, clock.now);
    expect(okValue(await b.engine.status()).health).toBe('uninitialized');
    expect((await b.engine.health()).exitCode).toBe(1);
    await b.engine.sync();
    clock.set('2026-03-05T03:59:00Z'); // 25 h 59 min later
    expect((await b.engine.health()).exitCode).toBe(0);
    clock.set('2026-03-05T04:01:00Z'); // 26 h 1 min later
    const stale = await b.engine.health();
    expect(stale.exitCode).toBe(1);
    // Not healthy is a failed outcome, so outcomes agree with `failed`; the status stays in details.
    expect(stale.failed).toEqual(['acme/widgets']);
    expect(stale.outcomes[0]).toMatchObject({ ok: false, error: expect.stringMatching(/^stale: no successful sync for 26 h/), details: { health: 'stale' } });
  });

  it('snapshots with a fake clock name and record the same instant', async () => {
    const u = upstream();
    const clock = fakeClock('2026-03-04T05:06:07Z');
    const b = createBackup([u], {}, clock.now);
    const snapshot = okValue(await b.engine.sync()).snapshot!;
    const meta = await readMetadata(snapshot.path);
    expect(meta.name).toBe(snapshot.name);
    expect(meta.name).toBe(`snapshot-${meta.createdAt.slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}`);
  });
});
