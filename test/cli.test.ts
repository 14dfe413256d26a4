// The bundled CLI as users and cron run it: a child process against real bare upstreams in temp dirs, judged by
// its exit code (the documented contract), its output and what it leaves on disk.
// `npm test` builds dist/ first; when running this file alone, run `npm run build` after changing src/.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/errors.ts';

const CLI = join(import.meta.dirname, '..', 'dist', 'backup-manager.mjs');

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
};

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

// The environment is built from scratch so a developer's BACKUP_ROOT or GITHUB_TOKEN never leaks into a test;
// BACKUP_RETRY_BASE_MS keeps retries of a failing fetch short.
function cli(args: string[], env: Record<string, string> = {}, cwd?: string): Run {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmp, BACKUP_RETRY_BASE_MS: '10', ...env },
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function git(cwd: string, ...args: string[]): string {
  const result = spawnSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...GIT_ENV } });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout.trim();
}

/** A bare upstream <dir>/<owner>/<name>.git with two commits on main, a branch and a tag. */
function makeUpstream(owner: string, name: string): string {
  const bare = join(tmp, 'upstream', owner, `${name}.git`);
  mkdirSync(bare, { recursive: true });
  git(bare, 'init', '--quiet', '--bare', '--initial-branch=main');
  const work = join(tmp, 'work', owner, name);
  mkdirSync(work, { recursive: true });
  git(work, 'init', '--quiet', '--initial-branch=main');
  writeFileSync(join(work, 'README.md'), `# ${name}\n`);
  git(work, 'add', '.');
  git(work, 'commit', '--quiet', '-m', 'first');
  git(work, 'commit', '--quiet', '--allow-empty', '-m', 'second');
  git(work, 'branch', 'feature');
  git(work, 'tag', 'v1.0');
  git(work, 'push', '--quiet', bare, 'main', 'feature', 'v1.0');
  return bare;
}

let tmp: string;
let upstream: string;
let root: string;

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" (npm test does)`);
  tmp = mkdtempSync(join(tmpdir(), 'gpb-cli-'));
  upstream = makeUpstream('acme', 'widgets');
  root = join(tmp, 'root');
  // One initialized, synced root shared by the read-only and restore tests.
  expect(cli(['init', '--root', root, '--repo', upstream]).code).toBe(0);
  expect(cli(['sync', '--root', root, '--repo', upstream]).code).toBe(0);
});

afterAll(() => {
  // Snapshots are read-only directories: make them writable again so the temp dir can go.
  spawnSync('chmod', ['-R', 'u+w', tmp]);
  rmSync(tmp, { recursive: true, force: true });
});

const onRoot = (...args: string[]) => [...args, '--root', root, '--repo', upstream];

describe('help and usage errors', () => {
  it('--help lists every command and the exit codes, exit 0', () => {
    const run = cli(['--help']);
    expect(run.code).toBe(0);
    for (const command of ['init', 'sync', 'snapshot', 'list', 'status', 'health', 'verify', 'prune', 'restore', 'export']) {
      expect(run.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
    expect(run.stdout).toContain('EXIT STATUS');
    expect(run.stdout).toMatch(/^ {2}3 +partial failure/m);
    expect(run.stdout).toMatch(/^ {2}4 +another run holds the lock/m);
    expect(run.stdout).toMatch(/^ {2}10 +not found/m);
    expect(run.stdout).toMatch(/^ {2}12 +authentication failed/m);
  });

  it('a command\'s --help shows its own options and the exit codes', () => {
    const run = cli(['restore', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('--checkout');
    expect(run.stdout).toContain('EXIT STATUS');
  });

  it('no command at all prints the usage and exits 2', () => {
    const run = cli([]);
    expect(run.code).toBe(2);
    expect(run.stdout).toContain('USAGE');
  });

  it('an unknown command exits 2 and lists the real ones', () => {
    const run = cli(['backup', '--root', root]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown command "backup"; commands: init, sync/);
  });

  it('an unknown option exits 2 and names it', () => {
    const run = cli(onRoot('sync', '--frobnicate'));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--frobnicate');
  });

  it('a mistyped option is named with the closest real one, not parseArgs\' advice', () => {
    const run = cli(onRoot('prune', '--dryrun'));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown option --dryrun (did you mean --dry-run?)');
    expect(run.stderr).not.toMatch(/positional argument/);
  });

  it('a bare unknown option says what was wrong before the usage', () => {
    const run = cli(['--bogus']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^backup-manager: unknown option --bogus\n/);
    expect(run.stdout).toContain('USAGE');
  });

  it('under --json, usage and config errors are a JSON envelope on stdout too', () => {
    const flag = cli(['status', '--json', '--root', root, '--bogus']);
    expect(flag.code).toBe(2);
    expect(JSON.parse(flag.stdout)).toMatchObject({ command: 'status', ok: false, exitCode: 2, outcomes: [], failed: [], error: expect.stringContaining('--bogus') });
    const badConfig = join(tmp, 'bad-config.yml');
    writeFileSync(badConfig, 'retentionDayz: 3\n');
    const config = cli(['list', '--json', '--config', badConfig]);
    expect(config.code).toBe(2);
    expect(JSON.parse(config.stdout)).toMatchObject({ command: 'list', ok: false, exitCode: 2, error: expect.stringMatching(/bad-config\.yml:1: retentionDayz: unknown field/) });
  });

  it('an option of another command is refused too (parsing is strict per command)', () => {
    expect(cli(onRoot('list', '--force-snapshot')).code).toBe(2);
  });

  it.each([
    [['--concurrency', '0'], /--concurrency must be a positive integer/],
    [['--concurrency', 'many'], /--concurrency must be a positive integer/],
    [['--to', '/tmp/x', '--push', '/tmp/y.git'], /--to and --push cannot be combined/],
    [['snapshot-20260101-000000', 'snapshot-20260102-000000'], /at most one snapshot name/],
  ])('restore %j exits 2: %s', (args, message) => {
    const run = cli(onRoot('restore', ...args));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it('a bad config file exits 2 naming the field and the line, and creates nothing', () => {
    const config = join(tmp, 'bad.config.yml');
    const fresh = join(tmp, 'never-created');
    writeFileSync(config, `root: ${fresh}\nrepositories:\n  - ${upstream}\nretentionDays: thirty\n`);
    const run = cli(['sync', '--config', config]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${config}:4: retentionDays`);
    expect(existsSync(fresh)).toBe(false);
  });

  it('an unknown config field exits 2 naming it and its line', () => {
    const config = join(tmp, 'typo.config.yml');
    writeFileSync(config, `repositories:\n  - ${upstream}\nretention_days: 10\n`);
    const run = cli(['status', '--config', config, '--root', root]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${config}:3: retention_days: unknown field`);
  });

  it('sync with no repositories anywhere exits 2 and says how to name one', () => {
    const run = cli(['sync', '--root', join(tmp, 'empty-root')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no repositories configured: pass --repo/);
  });

  it('an invalid BACKUP_RETENTION_DAYS exits 2', () => {
    const run = cli(onRoot('status'), { BACKUP_RETENTION_DAYS: 'forever' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('BACKUP_RETENTION_DAYS');
  });
});

describe('config discovery', () => {
  it('a command run next to backup.config.yml reads it, and -v and --json say which file', () => {
    const dir = join(tmp, 'discovered');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'backup.config.yml'), `root: ${root}\nrepositories:\n  - ${upstream}\n`);
    const status = cli(['status', '-v'], {}, dir);
    expect(status.stderr).toContain(`config: ${join(dir, 'backup.config.yml')}`);
    expect(status.stdout).toMatch(/widgets/);
    expect(status.code).toBe(0);
    const json = JSON.parse(cli(['status', '--json'], {}, dir).stdout) as { config: string; outcomes: Array<{ repo: string }> };
    expect(json.config).toBe(join(dir, 'backup.config.yml'));
    expect(json.outcomes.map((o) => o.repo)).toEqual(['acme/widgets']);
  });
});

describe('names and paths from users', () => {
  it.each([['restore', '../../etc'], ['verify', 'snapshot-bad'], ['restore', '/etc'], ['verify', 'snapshot-20261332-000000']])(
    '%s %s exits 2 without touching anything',
    (command, name) => {
      const before = readdirSync(join(root, 'snapshots', 'acme', 'widgets'));
      const run = cli(onRoot(command, name));
      expect(run.code).toBe(2);
      expect(run.stdout + run.stderr).toContain(`invalid snapshot name ${JSON.stringify(name)}`);
      expect(readdirSync(join(root, 'snapshots', 'acme', 'widgets'))).toEqual(before);
    },
  );

  it('restore --to a directory inside the backup root exits 2 and creates nothing there', () => {
    for (const inside of [join(root, 'restored'), join(root, 'immutable', 'acme', 'widgets.git'), root]) {
      const run = cli(onRoot('restore', '--to', inside, '--force'));
      expect(run.code).toBe(2);
      expect(run.stdout).toMatch(/refusing to restore into .*backup root/);
    }
    expect(existsSync(join(root, 'restored'))).toBe(false);
  });

  it('restore --to a directory that contains the backup root exits 2, even with --force', () => {
    const run = cli(onRoot('restore', '--to', tmp, '--force'));
    expect(run.code).toBe(2);
    expect(existsSync(join(root, 'immutable', 'acme', 'widgets.git'))).toBe(true);
  });

  // The check compares real paths: a symlink outside the root that points inside it is refused too.
  it('restore --to a path through a symlink into the backup root exits 2', () => {
    const link = join(tmp, 'link-to-snapshots');
    symlinkSync(join(root, 'snapshots'), link);
    const run = cli(onRoot('restore', '--to', join(link, 'x')));
    rmSync(link);
    expect(run.code).toBe(2);
    expect(existsSync(join(root, 'snapshots', 'x'))).toBe(false);
  });
});

describe('restore --to', () => {
  it('refuses a non-empty directory without --force and leaves it untouched; with --force keeps it beside', () => {
    const target = join(tmp, 'restore-target');
    mkdirSync(target);
    writeFileSync(join(target, 'precious.txt'), 'do not lose me\n');

    const refused = cli(onRoot('restore', '--to', target));
    expect(refused.code).toBe(2);
    expect(refused.stdout).toMatch(/not empty \(pass --force/);
    expect(readdirSync(target)).toEqual(['precious.txt']);
    expect(readFileSync(join(target, 'precious.txt'), 'utf8')).toBe('do not lose me\n');

    const forced = cli(onRoot('restore', '--to', target, '--force'));
    expect(forced.code).toBe(0);
    const kept = readdirSync(tmp).filter((n) => n.startsWith('restore-target.replaced-'));
    expect(kept).toHaveLength(1);
    expect(readFileSync(join(tmp, kept[0]!, 'precious.txt'), 'utf8')).toBe('do not lose me\n');
    expect(forced.stdout).toContain(`previous content kept at ${join(tmp, kept[0]!)}`);
    // The restored directory is a real repository with upstream's refs.
    expect(git(target, 'rev-parse', 'refs/heads/main')).toBe(git(upstream, 'rev-parse', 'refs/heads/main'));
    expect(git(target, 'rev-parse', 'refs/tags/v1.0')).toBe(git(upstream, 'rev-parse', 'refs/tags/v1.0'));
  });

  it('--checkout gives a working clone with the files of HEAD', () => {
    const target = join(tmp, 'checkout-target');
    const run = cli(onRoot('restore', 'latest', '--to', target, '--checkout'));
    expect(run.code).toBe(0);
    expect(readFileSync(join(target, 'README.md'), 'utf8')).toBe('# widgets\n');
    expect(git(target, 'log', '--format=%s', '-2')).toBe('second\nfirst');
  });

  it('--dry-run says what it would do and creates nothing', () => {
    const target = join(tmp, 'dry-run-target');
    const run = cli(onRoot('restore', '--to', target, '--dry-run'));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('would restore');
    expect(existsSync(target)).toBe(false);
  });
});

describe('--json', () => {
  it('prints one parseable result with command, outcomes and exitCode', () => {
    const run = cli(onRoot('list', '--json'));
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { command: string; exitCode: number; outcomes: { repo: string; ok: boolean; value: { snapshots: { name: string }[] } }[] };
    expect(result.command).toBe('list');
    expect(result.exitCode).toBe(0);
    expect(result.outcomes).toHaveLength(1);
    expect(result.outcomes[0]).toMatchObject({ repo: 'acme/widgets', ok: true });
    expect(result.outcomes[0]!.value.snapshots.length).toBeGreaterThanOrEqual(1);
    expect(result.outcomes[0]!.value.snapshots[0]!.name).toMatch(/^snapshot-\d{8}-\d{6}$/);
  });

  it('reports a failure in the JSON and in the exit code alike', () => {
    const run = cli(onRoot('verify', 'snapshot-bad', '--json'));
    const result = JSON.parse(run.stdout) as { exitCode: number; outcomes: { ok: boolean; error: string }[] };
    expect(run.code).toBe(2);
    expect(result.exitCode).toBe(2);
    expect(result.outcomes[0]!.ok).toBe(false);
    expect(result.outcomes[0]!.error).toContain('invalid snapshot name');
  });

  it('status --json carries branches, tags, snapshots and a verdict', () => {
    const run = cli(onRoot('status', '--json'));
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { command: string; outcomes: { ok: boolean; value: Record<string, unknown> }[] };
    expect(result.command).toBe('status');
    expect(result.outcomes[0]!.ok).toBe(true);
    const value = result.outcomes[0]!.value;
    expect(value).toMatchObject({ initialized: true, branches: 2, tags: 1, health: 'healthy', lastSync: { ok: true } });
    expect(value.snapshotCount).toBeGreaterThanOrEqual(1);
    expect((value.head as { hash: string }).hash).toBe(git(upstream, 'rev-parse', 'refs/heads/main'));
  });
});

describe('runs over several repositories', () => {
  it('init twice: the second says already initialized and exits 0', () => {
    const gadgets = makeUpstream('acme', 'gadgets');
    const r = join(tmp, 'init-twice');
    const first = cli(['init', '--root', r, '--repo', gadgets]);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/acme\/gadgets: mirror created with 3 refs/);
    const second = cli(['init', '--root', r, '--repo', gadgets]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/acme\/gadgets: already initialized \(3 refs\), nothing to do/);
  });

  it('one missing upstream: exit 3, the other repository still synced, the failure named', () => {
    const good = makeUpstream('acme', 'sprockets');
    const missing = join(tmp, 'upstream', 'acme', 'does-not-exist.git');
    const r = join(tmp, 'partial');
    const run = cli(['sync', '--root', r, '--repo', good, '--repo', missing, '--json']);
    expect(run.code).toBe(3);
    const result = JSON.parse(run.stdout) as { exitCode: number; failed: string[]; outcomes: { repo: string; ok: boolean; value?: { snapshot: { name: string } | null } }[] };
    expect(result.exitCode).toBe(3);
    expect(result.failed).toEqual(['acme/does-not-exist']);
    const ok = result.outcomes.find((o) => o.repo === 'acme/sprockets');
    expect(ok?.ok).toBe(true);
    expect(ok?.value?.snapshot?.name).toMatch(/^snapshot-/);
    // The good one really is backed up: its snapshot has upstream's main.
    const snapshots = join(r, 'snapshots', 'acme', 'sprockets');
    const [name] = readdirSync(snapshots);
    expect(git(join(snapshots, name!), 'rev-parse', 'refs/heads/main')).toBe(git(good, 'rev-parse', 'refs/heads/main'));
    // Nothing half-made is left for the missing one.
    expect(existsSync(join(r, 'immutable', 'acme', 'does-not-exist.git'))).toBe(false);
  });

  it('a failed fetch of the only repository exits with its reason: 10 for a repository that is not there', () => {
    const run = cli(['sync', '--root', join(tmp, 'all-fail'), '--repo', join(tmp, 'upstream', 'acme', 'nothing-here.git')]);
    expect(run.code).toBe(ExitCode.NOT_FOUND);
    expect(run.stdout).toMatch(/acme\/nothing-here was not found at /);
  });
});

describe('ref names', () => {
  it('a branch named like a temporary file (tmp_fix, tmp-two) is in the snapshot and the restore', () => {
    const bare = makeUpstream('acme', 'tmpnames');
    const main = git(bare, 'rev-parse', 'refs/heads/main');
    git(bare, 'update-ref', 'refs/heads/tmp_fix', main);
    git(bare, 'update-ref', 'refs/heads/tmp-two', main);
    const r = join(tmp, 'tmpnames-root');
    expect(cli(['sync', '--root', r, '--repo', bare]).code).toBe(0);
    const target = join(tmp, 'tmpnames-restored');
    expect(cli(['restore', '--to', target, '--root', r, '--repo', bare]).code).toBe(0);
    const refs = git(target, 'for-each-ref', '--format=%(refname)').split('\n');
    expect(refs).toEqual(expect.arrayContaining(['refs/heads/tmp_fix', 'refs/heads/tmp-two']));
    // And the mirror matches the snapshot, so the next sync has nothing to snapshot.
    expect(cli(['sync', '--root', r, '--repo', bare]).stdout).toContain('no snapshot needed');
  });

  // As a loose ref file, such a name broke the snapshot's file walk (readdir decodes it, lstat of the decoded name
  // is ENOENT) and failed the whole sync; the mirror now packs its refs, so the name is bytes inside packed-refs.
  it('a branch whose name is not UTF-8 is backed up and restored byte for byte', () => {
    const bare = makeUpstream('acme', 'latin1');
    // Node would encode a JS string as UTF-8: let the shell write the raw byte 0xE9.
    const made = spawnSync('sh', ['-c', 'git -C "$1" update-ref "$(printf \'refs/heads/caf\\351\')" refs/heads/main', 'sh', bare]);
    expect(made.status).toBe(0);
    const r = join(tmp, 'latin1-root');
    const sync = cli(['sync', '--root', r, '--repo', bare]);
    expect(sync.stdout + sync.stderr).not.toContain('ENOENT');
    expect(sync.code).toBe(0);
    const target = join(tmp, 'latin1-restored');
    expect(cli(['restore', '--to', target, '--root', r, '--repo', bare]).code).toBe(0);
    const refs = spawnSync('git', ['-C', target, 'for-each-ref', '--format=%(refname)']).stdout;
    expect(refs.includes(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]))).toBe(true);
  });
});
