// Hostile snapshots and archives: a planted config never reaches git, a push goes where it was told, a symlink,
// special file or alternates file is refused before anything reads through it, and a restored copy cannot push
// over the original by accident. Real git, real repositories, snapshots crafted the way an attacker would.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { ExitCode } from '../src/errors.ts';
import { walkFiles } from '../src/fsutil.ts';
import { createGitCommandManager, gitArgs } from '../src/git/git.ts';
import { mirrorConfig, renderConfig } from '../src/git/config-template.ts';
import { Redactor } from '../src/redact.ts';
import type { Engine } from '../src/engine/api.ts';
import { runCli } from './helpers/cli.ts';
import { createBackup, createUpstream, git, makeTempDir, okValue, refsOf, type TestBackup, type Upstream } from './helpers/git-fixtures.ts';

const cleanups = cleanupAfterEach();
function upstream(): Upstream {
  const u = createUpstream();
  cleanups.push(u.cleanup);
  return u;
}

const CRAFTED = 'snapshot-20200101-000000';

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Make snapshot.json agree with the directory again, as an attacker who rewrote both would. */
async function rewriteMetadata(dir: string, name: string): Promise<void> {
  const file = join(dir, 'snapshot.json');
  const metadata = JSON.parse(readFileSync(file, 'utf8'));
  metadata.name = name;
  metadata.createdAt = '2020-01-01T00:00:00.000Z';
  metadata.files = {};
  for (const entry of await walkFiles(dir)) {
    if (entry.rel !== 'snapshot.json') metadata.files[entry.rel] = { sha256: sha256(entry.abs), size: entry.size };
  }
  writeFileSync(file, `${JSON.stringify(metadata, null, 2)}\n`);
}

/** A copy of a genuine snapshot under a new name, changed by `plant`, with a snapshot.json that matches it. */
async function craftSnapshot(b: TestBackup, genuine: string, plant: (dir: string) => void): Promise<string> {
  const dir = join(b.root, 'snapshots/acme/widgets', CRAFTED);
  execFileSync('cp', ['-a', genuine, dir]);
  execFileSync('chmod', ['-R', 'u+w', dir]);
  plant(dir);
  await rewriteMetadata(dir, CRAFTED);
  return dir;
}

/** A config that runs a command whenever git fetches from the mirror's origin. */
function plantedUploadPack(url: string, marker: string): string {
  return `${renderConfig(mirrorConfig({ url, includePullRefs: false }))}[remote "origin"]\n\tuploadpack = "touch ${marker}; git-upload-pack"\n`;
}

/** opened() is true once anything has opened `fifo` for reading: the proof that something read through a link to it. */
function watchFifo(fifo: string): { opened: () => boolean; stop: () => void } {
  execFileSync('mkfifo', [fifo]);
  const flag = `${fifo}.opened`;
  const child: ChildProcess = spawn('sh', ['-c', 'exec 3>"$1"; touch "$2"; printf "0123456789abcdef0123456789abcdef01234567\\n" >&3', 'sh', fifo, flag], { stdio: 'ignore' });
  return {
    opened: () => existsSync(flag),
    stop: () => child.kill('SIGKILL'),
  };
}

async function settle(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 200));
}

describe('a planted config never reaches git', () => {
  it('restore from a crafted snapshot writes a clean config, and the next sync never runs its upload-pack command', async () => {
    const u = upstream();
    const b = createBackup([u]);
    const genuine = okValue(await b.engine.sync()).snapshot!;
    const marker = join(makeTempDir(), 'uploadpack-ran');
    const crafted = await craftSnapshot(b, genuine.path, (dir) => writeFileSync(join(dir, 'config'), plantedUploadPack(u.bare, marker)));

    // The plant works: git fetching with that config runs the command.
    const control = join(makeTempDir(), 'control.git');
    execFileSync('cp', ['-a', crafted, control]);
    const controlMarker = `${marker}-control`;
    writeFileSync(join(control, 'config'), plantedUploadPack(u.bare, controlMarker));
    git(control, 'fetch', '--quiet', 'origin');
    expect(existsSync(controlMarker)).toBe(true);

    // verify names the planted key and runs no git against the snapshot.
    const verified = await b.engine.verify({ snapshot: CRAFTED });
    expect(verified.exitCode).toBe(ExitCode.FAILURE);
    const error = verified.outcomes[0]!.ok ? '' : verified.outcomes[0]!.error;
    expect(error).toContain('remote.origin.uploadpack: a setting this tool never writes');
    expect(error).toContain('git fsck: not run');

    const inPlace = okValue(await b.engine.restore({ snapshot: CRAFTED }));
    const mirror = join(b.root, 'immutable/acme/widgets.git');
    expect(readFileSync(join(mirror, 'config'), 'utf8')).toBe(renderConfig(mirrorConfig({ url: u.bare, includePullRefs: false })));
    expect(inPlace.remote).toBe(u.bare);

    const to = join(makeTempDir(), 'copy.git');
    okValue(await b.engine.restore({ snapshot: CRAFTED, to }));
    expect(readFileSync(join(to, 'config'), 'utf8')).not.toContain('uploadpack');
    expect(git(to, 'config', '--list').includes('remote.')).toBe(false);

    u.commit('after the restore');
    u.push('main');
    const synced = okValue(await b.engine.sync({ noPrune: true }));
    expect(synced.changes.updated).toContain('refs/heads/main');
    expect(existsSync(marker)).toBe(false);
  });

  it('restore from a crafted archive with a matching snapshot.json writes a clean config; the next sync runs nothing', async () => {
    const u = upstream();
    const b = createBackup([u]);
    const genuine = okValue(await b.engine.sync()).snapshot!;
    const exported = okValue(await b.engine.exportArchive({ snapshot: genuine.name }));
    const marker = join(makeTempDir(), 'uploadpack-ran');

    const work = makeTempDir();
    execFileSync('tar', ['-xzf', exported.archive, '-C', work]);
    const top = join(work, genuine.name);
    writeFileSync(join(top, 'config'), plantedUploadPack(u.bare, marker));
    await rewriteMetadata(top, genuine.name);
    const crafted = join(makeTempDir(), 'crafted.tar.gz');
    execFileSync('tar', ['-czf', crafted, '-C', work, genuine.name]);

    const fresh = createBackup([u]);
    const inPlace = okValue(await fresh.engine.restore({ fromArchive: crafted }));
    expect(inPlace.mode).toBe('archive');
    const mirror = join(fresh.root, 'immutable/acme/widgets.git');
    expect(readFileSync(join(mirror, 'config'), 'utf8')).toBe(renderConfig(mirrorConfig({ url: u.bare, includePullRefs: false })));
    const to = join(makeTempDir(), 'copy.git');
    okValue(await fresh.engine.restore({ fromArchive: crafted, to }));
    expect(readFileSync(join(to, 'config'), 'utf8')).not.toContain('uploadpack');

    u.commit('after the restore');
    u.push('main');
    okValue(await fresh.engine.sync({ noPrune: true }));
    expect(existsSync(marker)).toBe(false);
  });

  it('restore --push lands in the remote named, whatever a planted pushInsteadOf in the snapshot says', async () => {
    const u = upstream();
    const b = createBackup([u]);
    const genuine = okValue(await b.engine.sync()).snapshot!;
    const homes = makeTempDir();
    const named = join(homes, 'named.git');
    const decoy = join(homes, 'decoy.git');
    const controlDecoy = join(homes, 'control-decoy.git');
    for (const bare of [named, decoy, controlDecoy]) git(homes, 'init', '--bare', '--quiet', bare);
    const rule = (to: string) => `${readFileSync(join(genuine.path, 'config'), 'utf8')}[url "${to}"]\n\tpushInsteadOf = ${named}\n`;
    const crafted = await craftSnapshot(b, genuine.path, (dir) => writeFileSync(join(dir, 'config'), rule(decoy)));

    // The plant works: git pushing with that config goes to the decoy.
    const control = join(makeTempDir(), 'control.git');
    execFileSync('cp', ['-a', crafted, control]);
    writeFileSync(join(control, 'config'), rule(controlDecoy));
    git(control, 'push', '--quiet', named, 'refs/heads/*:refs/heads/*');
    expect(Object.keys(refsOf(controlDecoy)).length).toBeGreaterThan(0);
    expect(refsOf(named)).toEqual({});

    const pushed = okValue(await b.engine.restore({ snapshot: CRAFTED, push: named }));
    expect(pushed.target).toBe(named);
    expect(refsOf(named)).toEqual(refsOf(u.bare));
    expect(refsOf(decoy)).toEqual({});
  });

  it('restore --push refuses when the user\'s own git config would send the push elsewhere', async () => {
    const u = upstream();
    const homes = makeTempDir();
    const named = join(homes, 'named.git');
    const decoy = join(homes, 'decoy.git');
    for (const bare of [named, decoy]) git(homes, 'init', '--bare', '--quiet', bare);
    const home = makeTempDir('gpb-home-');
    writeFileSync(join(home, '.gitconfig'), `[url "${decoy}"]\n\tpushInsteadOf = ${named}\n`);
    const savedHome = process.env.HOME;
    process.env.HOME = home;
    let engine: Engine;
    try {
      engine = createBackup([u]).engine; // the git executor takes HOME when it is made
    } finally {
      process.env.HOME = savedHome;
    }
    okValue(await engine.sync());
    const refused = await engine.restore({ push: named });
    expect(refused.exitCode).toBe(ExitCode.USAGE);
    expect(refused.outcomes[0]!.ok ? '' : refused.outcomes[0]!.error).toMatch(/sends it elsewhere \(url\..*decoy\.git\.pushinsteadof = .*named\.git\)/);
    expect(refsOf(named)).toEqual({});
    expect(refsOf(decoy)).toEqual({});
  });
});

type Plant = (dir: string, outside: string) => { fifo: string; file: string };

const UNSAFE: Record<string, Plant> = {
  'a symlinked ref': (dir, outside) => {
    const fifo = join(outside, 'passwd');
    mkdirSync(join(dir, 'refs/heads'), { recursive: true });
    symlinkSync(fifo, join(dir, 'refs/heads/evil'));
    return { fifo, file: 'refs/heads/evil' };
  },
  'a symlinked pack': (dir, outside) => {
    // The pack itself moved outside, its index a FIFO there (git skips a pack that is not a regular file, but opens
    // any index it finds).
    const pack = readdirSync(join(dir, 'objects/pack')).find((n) => n.endsWith('.pack'))!;
    const idx = pack.replace(/\.pack$/, '.idx');
    execFileSync('mv', [join(dir, 'objects/pack', pack), join(outside, pack)]);
    rmSync(join(dir, 'objects/pack', idx));
    symlinkSync(join(outside, pack), join(dir, 'objects/pack', pack));
    symlinkSync(join(outside, idx), join(dir, 'objects/pack', idx));
    return { fifo: join(outside, idx), file: `objects/pack/${idx}` };
  },
  'objects/info/alternates': (dir, outside) => {
    // Another object store whose only index is the FIFO: git opens it as soon as it looks there.
    mkdirSync(join(outside, 'objects/pack'), { recursive: true });
    const name = `pack-${'ab'.repeat(20)}`;
    writeFileSync(join(outside, 'objects/pack', `${name}.pack`), '');
    mkdirSync(join(dir, 'objects/info'), { recursive: true });
    writeFileSync(join(dir, 'objects/info/alternates'), `${join(outside, 'objects')}\n`);
    return { fifo: join(outside, 'objects/pack', `${name}.idx`), file: 'objects/info/alternates' };
  },
  'a FIFO inside the snapshot': (dir) => {
    mkdirSync(join(dir, 'refs/heads'), { recursive: true });
    return { fifo: join(dir, 'refs/heads/fifo'), file: 'refs/heads/fifo' };
  },
};

describe('restore, export and verify check a snapshot\'s structure first', () => {
  for (const [what, plant] of Object.entries(UNSAFE)) {
    it(`${what}: verify, restore --to, in place, --force and export all refuse, and nothing reads through it`, async () => {
      const u = upstream();
      const b = createBackup([u]);
      const genuine = okValue(await b.engine.sync()).snapshot!;
      const outside = makeTempDir('gpb-outside-');
      let planted = { fifo: '', file: '' };
      const crafted = await craftSnapshot(b, genuine.path, (dir) => (planted = plant(dir, outside)));

      // The plant works: git run in the snapshot reads through it.
      const control = watchFifo(planted.fifo);
      cleanups.push(control.stop);
      spawnSync('git', ['-c', 'safe.directory=*', 'fsck', '--full'], { cwd: crafted, stdio: 'ignore', timeout: 10_000 });
      await settle();
      expect(control.opened()).toBe(true);
      control.stop();
      rmSync(planted.fifo);
      rmSync(`${planted.fifo}.opened`);

      const watch = watchFifo(planted.fifo);
      cleanups.push(watch.stop);
      const mirror = join(b.root, 'immutable/acme/widgets.git');
      const mirrorRefs = refsOf(mirror);
      const errorOf = (r: { outcomes: Array<{ ok: boolean; error?: string }> }) => (r.outcomes[0]!.ok ? '' : r.outcomes[0]!.error!);

      const verified = await b.engine.verify({ snapshot: CRAFTED });
      expect(verified.exitCode).toBe(ExitCode.FAILURE);
      expect(errorOf(verified)).toContain(planted.file);

      const to = join(makeTempDir(), 'restored');
      const toDir = await b.engine.restore({ snapshot: CRAFTED, to });
      expect(errorOf(toDir)).toMatch(/refusing to restore acme\/widgets snapshot-20200101-000000: the snapshot fails its structural checks/);
      expect(errorOf(toDir)).toContain(planted.file);
      expect(existsSync(to)).toBe(false);

      const busy = makeTempDir();
      writeFileSync(join(busy, 'precious.txt'), 'keep me');
      const forced = await b.engine.restore({ snapshot: CRAFTED, to: busy, force: true, checkout: true });
      expect(errorOf(forced)).toContain(planted.file);
      expect(readdirSync(busy)).toEqual(['precious.txt']);

      const inPlace = await b.engine.restore({ snapshot: CRAFTED, force: true });
      expect(errorOf(inPlace)).toContain(planted.file);
      expect(refsOf(mirror)).toEqual(mirrorRefs);

      const pushTo = join(makeTempDir(), 'remote.git');
      git(makeTempDir(), 'init', '--bare', '--quiet', pushTo);
      const pushed = await b.engine.restore({ snapshot: CRAFTED, push: pushTo, force: true });
      expect(errorOf(pushed)).toContain(planted.file);
      expect(refsOf(pushTo)).toEqual({});

      const exported = await b.engine.exportArchive({ snapshot: CRAFTED });
      expect(errorOf(exported)).toMatch(/refusing to export .*structural checks/);
      expect(existsSync(join(b.root, 'archives/acme/widgets', `${CRAFTED}.tar.gz`))).toBe(false);

      await settle();
      expect(watch.opened()).toBe(false);
    });
  }

  it('an archive carrying objects/info/alternates is refused before git runs', async () => {
    const u = upstream();
    const b = createBackup([u]);
    const genuine = okValue(await b.engine.sync()).snapshot!;
    const exported = okValue(await b.engine.exportArchive({ snapshot: genuine.name }));
    const work = makeTempDir();
    execFileSync('tar', ['-xzf', exported.archive, '-C', work]);
    const top = join(work, genuine.name);
    mkdirSync(join(top, 'objects/info'), { recursive: true });
    writeFileSync(join(top, 'objects/info/alternates'), `${join(u.bare, 'objects')}\n`);
    await rewriteMetadata(top, genuine.name);
    const crafted = join(makeTempDir(), 'crafted.tar.gz');
    execFileSync('tar', ['-czf', crafted, '-C', work, genuine.name]);

    const to = join(makeTempDir(), 'restored');
    const refused = await createBackup([]).engine.restore({ fromArchive: crafted, to });
    expect(refused.exitCode).toBe(ExitCode.FAILURE);
    expect(refused.outcomes[0]!.ok ? '' : refused.outcomes[0]!.error).toContain('objects/info/alternates: git would read another directory through this file');
    expect(existsSync(to)).toBe(false);
  });
});

describe('restored copies are safe to use', () => {
  it('restore --to has no remote: neither git push nor git push --mirror reaches the original', async () => {
    const u = upstream();
    const b = createBackup([u]);
    okValue(await b.engine.sync());
    const before = refsOf(u.bare);
    const to = join(makeTempDir(), 'copy.git');
    const restored = okValue(await b.engine.restore({ to }));
    expect(restored.remote).toBeNull();
    expect(restored.sourceUrl).toBe(u.bare);
    expect(refsOf(to)).toEqual(before);
    git(to, 'update-ref', '-d', 'refs/heads/feature');
    expect(() => git(to, 'push', '--mirror')).toThrow(/No configured push destination/);
    expect(() => git(to, 'push')).toThrow(/No configured push destination/);
    expect(refsOf(u.bare)).toEqual(before);
  });

  it('the CLI says the restored copy has no remote and how to add one on purpose', async () => {
    const u = upstream();
    const b = createBackup([u]);
    okValue(await b.engine.sync());
    const to = join(makeTempDir(), 'copy.git');
    const run = await runCli(['restore', 'latest', '--root', b.root, '--repo', u.bare, '--to', to]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`no remote is configured in it, so git push goes nowhere; to push on purpose: git remote add origin ${u.bare}`);
  });

  it('--checkout restores every ref, notes included, with HEAD checked out and a clean work tree', async () => {
    const u = upstream();
    git(u.work, 'notes', 'add', '-m', 'reviewed by the release team', 'HEAD');
    u.push('refs/notes/commits');
    const b = createBackup([u]);
    okValue(await b.engine.sync());
    const to = join(makeTempDir(), 'checkout');
    const restored = okValue(await b.engine.restore({ to, checkout: true }));
    expect(restored.remote).toBeNull();
    expect(refsOf(to)).toEqual(refsOf(u.bare));
    expect(refsOf(to)['refs/notes/commits']).toBeDefined();
    expect(git(to, 'notes', 'show', 'HEAD').trim()).toBe('reviewed by the release team');
    expect(git(to, 'status', '--porcelain')).toBe('');
    expect(readFileSync(join(to, 'feature.txt'), 'utf8')).toContain('feature work');
    expect(git(to, 'remote').trim()).toBe('');
  });
});

describe('safe.directory names the directory a call runs in', () => {
  it('builds the exact real path, never *', () => {
    const dir = makeTempDir();
    const link = `${dir}-link`;
    symlinkSync(dir, link);
    cleanups.push(() => rmSync(link));
    const args = gitArgs(link, ['status']);
    expect(args).toContain(`safe.directory=${realpathSync(dir)}`);
    expect(args.filter((a) => a.startsWith('safe.directory='))).toHaveLength(1);
    expect(args.join(' ')).not.toContain('safe.directory=*');
  });

  it('stops at a URL carrying a password, in any repository', async () => {
    const repo = join(makeTempDir(), 'any.git');
    git(makeTempDir(), 'init', '--bare', '--quiet', repo);
    const executor = createGitCommandManager({ redactor: new Redactor() });
    const error = await executor.run(repo, ['ls-remote', '--', 'https://user:hunter2@127.0.0.1:9/acme/widgets.git']).catch((e: Error) => e);
    expect(String(error)).toMatch(/uses plaintext credentials/);
    expect(String(error)).not.toContain('hunter2');
  });

  it.skipIf(process.getuid?.() !== 0)('trusts a repository of another UID it runs in, and nothing else of that UID', async () => {
    const repo = join(makeTempDir(), 'theirs.git');
    git(makeTempDir(), 'init', '--bare', '--quiet', repo);
    execFileSync('chown', ['-R', '1001:1001', repo]);
    const executor = createGitCommandManager({ redactor: new Redactor() });
    expect(await executor.run(repo, ['rev-parse', '--is-bare-repository'])).toBe('true\n');
    // From inside it git finds the same repository, but the directory trusted is the one the call runs in.
    await expect(executor.run(join(repo, 'refs'), ['rev-parse', '--git-dir'])).rejects.toThrow(/dubious ownership/);
  });
});
