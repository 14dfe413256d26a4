// What must not go wrong: retention by recorded time, a killed snapshot, two runs at once, damaged snapshots,
// restores that never destroy, and a token that never reaches disk, logs or a command line.
import { execFileSync, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { ExitCode } from '../src/errors.ts';
import { walkFiles } from '../src/fsutil.ts';
import { acquireLock } from '../src/lock.ts';
import { Layout } from '../src/layout.ts';
import { createBackup, createUpstream, fakeClock, git, makeTempDir, okValue, refsOf, type Upstream } from './helpers/git-fixtures.ts';
import { runCli, startCli } from './helpers/cli.ts';

const cleanups = cleanupAfterEach();
function upstream(): Upstream {
  const u = createUpstream();
  cleanups.push(u.cleanup);
  return u;
}

/** Many refs upstream: more for fetch and the ref comparison to do. */
function addManyBranches(u: Upstream, count: number): void {
  const head = git(u.work, 'rev-parse', 'HEAD').trim();
  const input = Array.from({ length: count }, (_, i) => `create refs/heads/bulk/branch-${String(i).padStart(5, '0')} ${head}\n`).join('');
  execFileSync('git', ['update-ref', '--stdin'], { cwd: u.bare, input });
}

/** Thousands of loose objects in the mirror make a snapshot slow enough to interrupt: each is linked and hashed. */
function addLooseObjects(mirror: string, count: number): void {
  const junk = makeTempDir();
  git(junk, 'init', '--bare', '--quiet', junk);
  const stream = Array.from({ length: count }, (_, i) => {
    const data = `loose object ${i} ${'x'.repeat(i % 97)}\n`;
    return `blob\nmark :${i + 1}\ndata ${Buffer.byteLength(data)}\n${data}`;
  }).join('');
  execFileSync('git', ['fast-import', '--quiet'], { cwd: junk, input: stream });
  const pack = readdirSync(join(junk, 'objects/pack')).find((n) => n.endsWith('.pack'))!;
  execFileSync('git', ['unpack-objects', '-q'], { cwd: mirror, input: readFileSync(join(junk, 'objects/pack', pack)) });
}

describe('retention', () => {
  it('prunes by the time recorded in snapshot.json, never by mtime, never the newest, never below keep-min', async () => {
    const u = upstream();
    // A frozen clock moved by whole days: ages fall exactly on the 30-day edge.
    const clock = fakeClock('2026-01-01T02:00:00Z', 0);
    const b = createBackup([u], { retentionDays: 30, keepMin: 3 }, clock.now);
    for (let day = 0; day < 40; day++) {
      u.commit(`day ${day}`);
      u.push('main');
      okValue(await b.engine.sync({ noPrune: true }));
      clock.advanceDays(1);
    }
    const parent = join(b.root, 'snapshots/acme/widgets');
    // Make every snapshot look brand new on disk: mtime must not save any of them.
    for (const name of readdirSync(parent)) utimesSync(join(parent, name), new Date(), new Date());
    expect(readdirSync(parent).length).toBe(40);

    const dry = okValue(await b.engine.prune({ dryRun: true }));
    expect(dry.removed).toEqual([]);
    expect(readdirSync(parent).length).toBe(40);
    const wouldGo = dry.decisions.filter((d) => !d.keep).map((d) => d.name);

    const pruned = okValue(await b.engine.prune());
    expect(pruned.removed.sort()).toEqual(wouldGo.sort());
    const left = readdirSync(parent).sort();
    // Now is day 40: day 10 is exactly 30 days old and kept; day 9 is 31 days old and goes.
    expect(left.length).toBe(30);
    expect(left[0]).toMatch(/^snapshot-20260111-/);

    // Far in the future: everything is old, yet keep-min holds the newest three.
    clock.advanceDays(365);
    const late = okValue(await b.engine.prune());
    expect(late.removed.length).toBe(27);
    expect(readdirSync(parent).length).toBe(3);
    const keepMinZero = okValue(await b.engine.prune({ keepMin: 0 }));
    expect(readdirSync(parent).length).toBe(1); // never the newest
    expect(keepMinZero.decisions.find((d) => d.keep)?.reason).toMatch(/newest/);
  });

  it('shares a snapshot among readers, and does not prune one that is being read', async () => {
    const u = upstream();
    const clock = fakeClock('2026-01-01T02:00:00Z');
    const b = createBackup([u], { retentionDays: 1, keepMin: 0 }, clock.now);
    const first = okValue(await b.engine.sync()).snapshot!;
    clock.advanceDays(5);
    u.commit('later');
    u.push('main');
    okValue(await b.engine.sync({ noPrune: true }));
    // This test process registers as a live reader of the old snapshot, as a long verify or restore would.
    const layout = new Layout(b.root);
    const repo = { owner: 'acme', name: 'widgets' };
    const reader = await acquireLock(join(layout.snapshotReaders(repo, first.name), 'test-reader.lock'), { command: 'verify (test reader)' });
    try {
      // Another reader at the same time is fine: readers do not exclude each other.
      const verify = await runCli(['verify', first.name, '--root', b.root, '--repo', u.bare], { BACKUP_LOCK_WAIT_MS: '0' });
      expect(verify.code, verify.stderr).toBe(0);
      const pruned = okValue(await b.engine.prune());
      expect(pruned.removed).toEqual([]);
      expect(pruned.decisions.find((d) => d.name === first.name)?.reason).toMatch(/in use/);
    } finally {
      await reader.release();
    }
    // A registration left by a reader that died (killed verify) does not keep the snapshot forever.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const record = { host: hostname(), pid: dead, startTime: '1', command: 'verify (killed)', acquiredAt: new Date().toISOString(), nonce: 'dead' };
    writeFileSync(join(layout.snapshotReaders(repo, first.name), 'dead-reader.lock'), JSON.stringify(record));
    expect(okValue(await b.engine.prune()).removed).toEqual([first.name]);
    // A reader that comes after the removal is told plainly.
    const late = await b.engine.verify({ snapshot: first.name });
    expect(late.outcomes[0]!.ok ? '' : late.outcomes[0]!.error).toMatch(/has no snapshot/);
  });
});

describe('interruption and concurrency', () => {
  it('a snapshot killed mid-way leaves nothing visible; the next run cleans up and succeeds', async () => {
    const u = upstream();
    const b = createBackup([u]);
    okValue(await b.engine.init());
    addLooseObjects(join(b.root, 'immutable/acme/widgets.git'), 3000);
    const parent = join(b.root, 'snapshots/acme/widgets');
    const args = ['snapshot', '--root', b.root, '--repo', u.bare];
    const { child, done } = startCli(args);
    // Wait until the temporary snapshot directory exists, then kill without warning.
    const started = Date.now();
    while (!(existsSync(parent) && readdirSync(parent).some((n) => n.startsWith('.tmp-')))) {
      if (Date.now() - started > 20_000) throw new Error('snapshot never started');
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGKILL');
    const killed = await done;
    expect(killed.signal).toBe('SIGKILL');
    expect(readdirSync(parent).filter((n) => !n.startsWith('.tmp-'))).toEqual([]);
    expect(okValue(await b.engine.list()).snapshots).toEqual([]);
    // The killed run left its lock; its process is gone, so the next run takes it over and says so.
    const next = await runCli(args);
    expect(next.code).toBe(0);
    expect(next.stderr).toMatch(/stale lock/i);
    expect(readdirSync(parent).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    expect(readdirSync(parent).length).toBe(1);
    expect(okValue(await b.engine.verify()).snapshots[0]!.ok).toBe(true);
  });

  it('removes what a killed init or restore of the same repository left beside the mirror, and nothing else', async () => {
    const u = upstream();
    const b = createBackup([u]);
    const owner = join(b.root, 'immutable/acme');
    mkdirSync(join(owner, '.tmp-init-widgets-deadbeef/objects'), { recursive: true });
    mkdirSync(join(owner, '.tmp-restore-widgets-0badf00d'), { recursive: true });
    mkdirSync(join(owner, '.tmp-init-widgets-extra-deadbeef'), { recursive: true }); // another repository's
    const sync = await runCli(['sync', '--root', b.root, '--repo', u.bare]);
    expect(sync.code).toBe(0);
    expect(sync.stderr).toMatch(/removed incomplete .*\.tmp-init-widgets-deadbeef/);
    expect(readdirSync(owner).sort()).toEqual(['.tmp-init-widgets-extra-deadbeef', 'widgets.git']);
  });

  it('a second sync while one runs fails with the lock exit code and corrupts nothing', async () => {
    const u = upstream();
    addManyBranches(u, 1500);
    const b = createBackup([u]);
    okValue(await b.engine.init());
    addLooseObjects(join(b.root, 'immutable/acme/widgets.git'), 3000);
    const args = ['sync', '--force-snapshot', '--root', b.root, '--repo', u.bare];
    // Deterministic part: a live holder of the repository lock.
    const lock = await acquireLock(new Layout(b.root).repoLock({ owner: 'acme', name: 'widgets' }), { command: 'sync (test holder)' });
    const blocked = await runCli(args);
    await lock.release();
    expect(blocked.code).toBe(ExitCode.LOCKED);
    expect(blocked.stderr + blocked.stdout).toMatch(/sync \(test holder\)/);

    // Racing part: two real processes at once; each either wins or reports the lock, never anything else.
    const results = await Promise.all([runCli(args), runCli(args)]);
    const codes = results.map((r) => r.code).sort();
    expect(codes[0]).toBe(0);
    expect([0, ExitCode.LOCKED]).toContain(codes[1]);
    const verify = okValue(await b.engine.verify({ all: true }));
    expect(verify.snapshots.length).toBeGreaterThanOrEqual(1);
    expect(verify.snapshots.every((s) => s.ok)).toBe(true);
  });
});

describe('verify', () => {
  it('names a corrupted copied file and a corrupted shared object file with every snapshot sharing it', async () => {
    const u = upstream();
    const b = createBackup([u]);
    const first = okValue(await b.engine.sync()).snapshot!;
    u.commit('second day');
    u.push('main');
    const second = okValue(await b.engine.sync()).snapshot!;
    expect(okValue(await b.engine.verify({ all: true })).snapshots.every((s) => s.ok)).toBe(true);

    // A copied file in one snapshot.
    const packedRefs = join(second.path, 'packed-refs');
    const target = existsSync(packedRefs) ? 'packed-refs' : 'config';
    chmodSync(join(second.path, target), 0o644);
    writeFileSync(join(second.path, target), `${readFileSync(join(second.path, target), 'utf8')}# tampered\n`);
    const damaged = await b.engine.verify({ snapshot: second.name });
    expect(damaged.exitCode).toBe(ExitCode.FAILURE);
    expect(damaged.outcomes[0]!.ok ? '' : damaged.outcomes[0]!.error).toContain(`${second.name}: ${target}: checksum mismatch`);

    // An object file hard-linked into both snapshots and the mirror: damaged everywhere at once.
    const pack = (await walkFiles(first.path)).find((f) => /^objects\/(pack\/pack-.*\.pack|[0-9a-f]{2}\/[0-9a-f]{38})$/.test(f.rel))!;
    expect(pack).toBeDefined();
    chmodSync(pack.abs, 0o644);
    const bytes = readFileSync(pack.abs);
    bytes[bytes.length - 30] = bytes[bytes.length - 30]! ^ 0xff;
    writeFileSync(pack.abs, bytes);
    const all = await b.engine.verify({ all: true });
    expect(all.exitCode).toBe(ExitCode.FAILURE);
    const message = all.outcomes[0]!.ok ? '' : all.outcomes[0]!.error;
    expect(message).toContain(`${first.name}: ${pack.rel}: checksum mismatch`);
    expect(message).toMatch(/same inode in [^)]*mirror/);
    // Machines get the same report, structured.
    const failure = all.outcomes[0]!;
    const report = (failure.ok ? undefined : failure.details) as { snapshots: Array<{ name: string; ok: boolean; problems: Array<{ file: string; sharedWith?: string[] }> }> };
    const firstReport = report.snapshots.find((s) => s.name === first.name)!;
    expect(firstReport.ok).toBe(false);
    expect(firstReport.problems.find((p) => p.file === pack.rel)?.sharedWith).toEqual(expect.arrayContaining([second.name, 'mirror']));
  });
});

describe('restore', () => {
  it('restores in place keeping the replaced mirror (as a pinned snapshot), and refuses a non-empty directory without --force', async () => {
    const u = upstream();
    const b = createBackup([u]);
    const first = okValue(await b.engine.sync()).snapshot!;
    const good = refsOf(first.path);
    u.push('--delete', 'feature');
    okValue(await b.engine.sync());
    const mirror = join(b.root, 'immutable/acme/widgets.git');
    expect(refsOf(mirror)['refs/heads/feature']).toBeUndefined();

    const inPlace = okValue(await b.engine.restore({ snapshot: first.name }));
    expect(inPlace.mode).toBe('in-place');
    expect(refsOf(mirror)).toEqual(good);
    // The replaced mirror is kept as a pinned snapshot (test/restore-replaced.test.ts).
    expect(inPlace.keptAs?.reason).toBe(`replaced by restore of ${first.name}`);
    expect(refsOf(inPlace.keptPrevious!)['refs/heads/feature']).toBeUndefined();
    expect(existsSync(join(mirror, 'hooks'))).toBe(false);

    const dir = join(makeTempDir(), 'busy');
    mkdirSync(dir);
    writeFileSync(join(dir, 'precious.txt'), 'keep me');
    const refused = await b.engine.restore({ to: dir });
    expect(refused.exitCode).toBe(ExitCode.USAGE);
    expect(readFileSync(join(dir, 'precious.txt'), 'utf8')).toBe('keep me');
    const forced = okValue(await b.engine.restore({ to: dir, force: true, checkout: true }));
    expect(readFileSync(join(forced.keptPrevious!, 'precious.txt'), 'utf8')).toBe('keep me');
    expect(git(dir, 'log', '-1', '--format=%s').trim()).toBe('Merge feature');
    // A restored copy has no remote: nothing pushed from it reaches the original by accident.
    expect(git(dir, 'remote').trim()).toBe('');
    expect(forced.remote).toBeNull();

    const inside = await b.engine.restore({ to: join(b.root, 'elsewhere') });
    expect(inside.exitCode).toBe(ExitCode.USAGE);
    const badName = await b.engine.restore({ snapshot: '../../etc' });
    expect(badName.exitCode).toBe(ExitCode.USAGE);
  });

  it('exports a snapshot and restores it from the archive on a fresh root', async () => {
    const u = upstream();
    const b = createBackup([u]);
    const snap = okValue(await b.engine.sync()).snapshot!;
    const exported = okValue(await b.engine.exportArchive({ snapshot: snap.name }));
    expect(existsSync(`${exported.archive}.sha256`)).toBe(true);

    const fresh = createBackup([]);
    const to = join(makeTempDir(), 'from-archive.git');
    const restored = okValue(await fresh.engine.restore({ fromArchive: exported.archive, to }));
    expect(restored.repo).toBe('acme/widgets');
    expect(refsOf(to)).toEqual(refsOf(snap.path));
    const inPlace = okValue(await fresh.engine.restore({ fromArchive: exported.archive }));
    expect(inPlace.target).toBe(join(fresh.root, 'immutable/acme/widgets.git'));
    expect(refsOf(inPlace.target)).toEqual(refsOf(snap.path));
  });

  it('pushes a snapshot to a new empty remote without refs/pull, and refuses a non-empty one', async () => {
    const u = upstream();
    // GitHub's hidden pull-request refs exist upstream; they are not kept by default and never pushed.
    git(u.bare, 'update-ref', 'refs/pull/1/head', refsOf(u.bare)['refs/heads/feature']!);
    const b = createBackup([u]);
    okValue(await b.engine.sync());
    const remote = join(makeTempDir(), 'new-home.git');
    git(makeTempDir(), 'init', '--bare', '--quiet', remote);
    const pushed = okValue(await b.engine.restore({ push: remote }));
    const expected = Object.fromEntries(Object.entries(refsOf(u.bare)).filter(([r]) => !r.startsWith('refs/pull/')));
    expect(refsOf(remote)).toEqual(expected);
    expect(pushed.refsRestored).toBe(Object.keys(expected).length);
    const again = await b.engine.restore({ push: remote });
    expect(again.exitCode).toBe(ExitCode.USAGE);
  });
});

describe('secrets', () => {
  const TOKEN = 'ghp_FAKEtokenForTests0123456789abcdefXYZ';
  const BASIC = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');

  it('sends the token to the GitHub host as a header and never writes it to disk, logs or a command line', async () => {
    const u = upstream();
    const b = createBackup([u]);
    // A stand-in "GitHub" that records what git sends and refuses like a revoked token would.
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(String(req.headers.authorization ?? ''));
      res.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"' }).end('Bad credentials');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    // A git shim on PATH records every command line git is started with, then runs the real git.
    const shimDir = makeTempDir();
    const argvLog = join(shimDir, 'argv.log');
    const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
    writeFileSync(join(shimDir, 'git'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${argvLog}'\nexec '${realGit}' "$@"\n`, { mode: 0o755 });
    const env = { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: `http://127.0.0.1:${port}`, PATH: `${shimDir}:${process.env.PATH}` };
    try {
      const local = await runCli(['sync', '--root', b.root, '--repo', u.bare, '--verbose'], env);
      expect(local.code).toBe(0);
      const remote = await runCli(['sync', '--root', b.root, '--repo', `http://127.0.0.1:${port}/acme/gadgets.git`, '--verbose'], env);
      expect(remote.code).toBe(ExitCode.AUTH);
      // A revoked token gets a plain explanation, not just git's words.
      expect(remote.stdout).toMatch(/authentication failed for acme\/gadgets at http:\/\/127\.0\.0\.1:\d+\/acme\/gadgets\.git: the token is missing, expired, revoked/);
      expect(seen).toContain(`basic ${BASIC}`);
      for (const output of [local.stdout, local.stderr, remote.stdout, remote.stderr, readFileSync(argvLog, 'utf8')]) {
        expect(output).not.toContain(TOKEN);
        expect(output).not.toContain(BASIC);
      }
      expect(readFileSync(argvLog, 'utf8')).toMatch(/--config-env=http\.http:\/\/127\.0\.0\.1:\d+\/\.extraheader=/);
    } finally {
      server.close();
    }
    const files = await walkFiles(b.root);
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      const content = readFileSync(f.abs);
      expect(content.includes(TOKEN), f.rel).toBe(false);
      expect(content.includes(BASIC), f.rel).toBe(false);
    }
    expect(readFileSync(join(b.root, 'immutable/acme/widgets.git/config'), 'utf8')).not.toMatch(/extraheader/i);
  });
});

describe('network failures', () => {
  it('retries a transient server error a bounded number of times, then fails leaving nothing behind', async () => {
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.writeHead(502).end('bad gateway');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const root = join(makeTempDir(), 'backup');
    try {
      const run = await runCli(['sync', '--root', root, '--repo', `http://127.0.0.1:${port}/acme/flaky.git`]);
      expect(run.code).toBe(ExitCode.FAILURE);
      expect(run.stderr.match(/failed, retrying in \d+ ms/g)?.length).toBe(2);
      expect(requests).toBe(3);
    } finally {
      server.close();
    }
    // No half-made mirror: the failed init left only its state record and log.
    expect(existsSync(join(root, 'immutable/acme/flaky.git'))).toBe(false);
    expect(readdirSync(join(root, 'immutable/acme'))).toEqual([]);
    const state = JSON.parse(readFileSync(join(root, 'state/repos/acme/flaky.json'), 'utf8'));
    expect(state.lastSync.ok).toBe(false);
  });
});
