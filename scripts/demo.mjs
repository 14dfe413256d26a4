#!/usr/bin/env node
// npm run demo: the whole life of a backup against a throwaway repository on disk, no network and no token.
// Builds an upstream (commits, a branch, a merge, a tag), then runs the bundled backup-manager through
// init -> sync -> (upstream moves on and is force-pushed) -> sync -> snapshot -> list -> status -> verify -> restore,
// printing every command and what it said. The temp dir is removed at the end unless --keep is given.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'backup-manager.mjs');
const keep = process.argv.includes('--keep');
const color = process.stdout.isTTY ? (code, text) => `\x1b[${code}m${text}\x1b[0m` : (_code, text) => text;

if (!existsSync(CLI)) {
  console.error(`${CLI} is missing: run "npm run build" first (npm run demo does).`);
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'backup-demo-'));
const upstream = join(work, 'upstream', 'acme', 'widgets.git');
const clone = join(work, 'developer');
const root = join(work, 'backup');
const config = join(work, 'backup.config.yml');
const restored = join(work, 'restored');

// A clean environment: no token, no BACKUP_* settings from the caller's shell, fixed identities for commits.
const env = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: work,
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Demo Developer',
  GIT_AUTHOR_EMAIL: 'dev@example.com',
  GIT_COMMITTER_NAME: 'Demo Developer',
  GIT_COMMITTER_EMAIL: 'dev@example.com',
};

const short = (text) => text.split(work).join('$DEMO');

function git(cwd, ...args) {
  const result = spawnSync('git', args, { cwd, env, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout.trim();
}

function commit(message, file, content) {
  writeFileSync(join(clone, file), content);
  git(clone, 'add', file);
  git(clone, 'commit', '--quiet', '-m', message);
}

function heading(text) {
  console.log(`\n${color('1;36', `== ${text}`)}`);
}

/** Run the bundled CLI, print the command line and its output; stop the demo on an unexpected exit code. */
function backupManager(...args) {
  console.log(color('1', `$ backup-manager ${short(args.join(' '))}`));
  const result = spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8' });
  const out = short(`${result.stdout}${result.stderr}`).trimEnd();
  if (out) console.log(out);
  if (result.status !== 0) throw new Error(`backup-manager ${args[0]} exited ${result.status}`);
}

let failed = false;
try {
  heading(`an upstream repository at ${short(upstream)}`);
  mkdirSync(upstream, { recursive: true });
  git(upstream, 'init', '--quiet', '--bare', '--initial-branch=main');
  mkdirSync(clone);
  git(clone, 'init', '--quiet', '--initial-branch=main');
  git(clone, 'remote', 'add', 'origin', upstream);
  commit('Initial commit', 'README.md', '# widgets\n');
  commit('Add the widget engine', 'engine.txt', 'v1\n');
  git(clone, 'switch', '--quiet', '-c', 'feature/faster');
  commit('Make widgets faster', 'engine.txt', 'v2 (faster)\n');
  git(clone, 'switch', '--quiet', 'main');
  commit('Document widgets', 'README.md', '# widgets\n\nWidgets, made well.\n');
  git(clone, 'merge', '--quiet', '--no-ff', '-m', "Merge branch 'feature/faster'", 'feature/faster');
  git(clone, 'tag', '-a', 'v1.0', '-m', 'First release');
  git(clone, 'push', '--quiet', 'origin', 'main', 'feature/faster', 'v1.0');
  console.log(git(clone, 'log', '--oneline', '--graph', '--all', '--decorate'));

  heading('configure: one repository, the backup root, 30-day retention');
  writeFileSync(config, `root: ${root}\nrepositories:\n  - ${upstream}\nretentionDays: 30\n`);
  console.log(short(`${config}:\n`) + short(`root: ${root}\nrepositories:\n  - ${upstream}\nretentionDays: 30`).replace(/^/gm, '  '));

  heading('init: clone the mirror');
  backupManager('init', '--config', config);

  heading('sync: fetch, and take the first snapshot');
  backupManager('sync', '--config', config);

  heading('upstream moves on: a new commit on main, and feature/faster is force-pushed (its old tip is rewritten away)');
  commit('Add widget docs', 'docs.txt', 'How to use widgets\n');
  git(clone, 'switch', '--quiet', 'feature/faster');
  git(clone, 'commit', '--quiet', '--amend', '-m', 'Make widgets faster (rewritten)');
  git(clone, 'switch', '--quiet', 'main');
  git(clone, 'push', '--quiet', 'origin', 'main');
  git(clone, 'push', '--quiet', '--force', 'origin', 'feature/faster');

  heading('sync again: the force-push is reported, a new snapshot is taken, the old one keeps the old commit');
  backupManager('sync', '--config', config);

  heading('snapshot: one more, on demand (two in the same second wait for the next one)');
  backupManager('snapshot', '--config', config);

  heading('list');
  backupManager('list', '--config', config);

  heading('status');
  backupManager('status', '--config', config);

  heading('verify every snapshot: checksums and git fsck');
  backupManager('verify', '--all', '--config', config);

  heading('the first snapshot still has feature/faster as it was before the force-push');
  const snapshots = join(root, 'snapshots', 'acme', 'widgets');
  const oldest = join(snapshots, readdirSync(snapshots).sort()[0]);
  for (const where of [oldest, join(root, 'immutable', 'acme', 'widgets.git')]) {
    console.log(color('1', `$ git -C ${short(where)} log --oneline -1 feature/faster`));
    console.log(git(where, 'log', '--oneline', '-1', 'feature/faster'));
  }

  heading('restore the latest snapshot as a working clone');
  backupManager('restore', 'latest', '--to', restored, '--checkout', '--config', config);
  console.log(color('1', `$ git -C ${short(restored)} log --oneline -3`));
  console.log(git(restored, 'log', '--oneline', '-3'));

  heading('done');
  console.log(`Everything above ran against ${short(upstream)} on disk: no network, no token.`);
} catch (error) {
  failed = true;
  console.error(color('1;31', `demo failed: ${error instanceof Error ? error.message : error}`));
} finally {
  if (keep) {
    console.log(`kept ${work} (remove it with: chmod -R u+w ${work} && rm -rf ${work})`);
  } else {
    // Snapshots are read-only by design: give write permission back before removing the temp dir.
    spawnSync('chmod', ['-R', 'u+w', work]);
    rmSync(work, { recursive: true, force: true });
  }
}
process.exitCode = failed ? 1 : 0;
