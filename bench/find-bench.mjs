#!/usr/bin/env node
// npm run bench (second part): `find COMMIT` over 30 snapshots of a 10,000-commit repository, as a ratio to the
// plainest way to ask the same thing: one `git merge-base --is-ancestor COMMIT HEAD` per snapshot, run in the same
// process, alternating, median of --reps runs. Issue 12's bar: the ratio stays within 2.
//
// Uses the bundled CLI (dist/backup-manager.mjs). Options: --days N (30), --commits N (10000), --reps N (5), --json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, option } from './harness.mjs';

const DAYS = option('days', 30);
const COMMITS = option('commits', 10000);
const REPS = option('reps', 5);

if (!existsSync(CLI)) {
  console.error(`${CLI} is missing: run "npm run build" first (npm run bench does).`);
  process.exit(1);
}
const work = mkdtempSync(join(tmpdir(), 'backup-find-bench-'));
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C' };
const run = (cmd, args, options = {}) => {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 1 << 28, ...options });
  if (r.status !== 0 && !options.okStatus?.includes(r.status)) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r;
};
const git = (cwd, ...args) => run('git', args, { cwd }).stdout.trim();

const upstream = join(work, 'upstream', 'bench', 'history.git');
const root = join(work, 'root');
mkdirSync(upstream, { recursive: true });
git(upstream, 'init', '--quiet', '--bare', '--initial-branch=main');
let time = 1_700_000_000;
let mark = 0;
const commit = (ref, from, message) => {
  mark++;
  const body = `${message}\n`;
  const blob = `line ${mark}\n`;
  return `commit ${ref}\nmark :${mark}\ncommitter Bench <bench@example.com> ${(time += 600)} +0000\ndata ${body.length}\n${body}${from ? `from ${from}\n` : ''}M 100644 inline file-${mark % 50}.txt\ndata ${blob.length}\n${blob}\n`;
};
const chunks = [];
for (let i = 0; i < COMMITS; i++) chunks.push(commit('refs/heads/main', i ? `:${mark}` : null, `change ${i}`));
run('git', ['fast-import', '--quiet'], { cwd: upstream, input: chunks.join('') });
git(upstream, 'repack', '-adq');
const oldest = git(upstream, 'rev-list', '--max-parents=0', 'main');

const cli = (...args) => run(process.execPath, [CLI, '--root', root, '--repo', upstream, ...args]);
for (let day = 0; day < DAYS; day++) {
  if (day) run('git', ['fast-import', '--quiet'], { cwd: upstream, input: commit('refs/heads/main', git(upstream, 'rev-parse', 'main'), `day ${day}`) });
  cli('sync', '--no-prune');
}
const parent = join(root, 'snapshots', 'bench', 'history');
const snapshots = readdirSync(parent).filter((n) => n.startsWith('snapshot-'));
if (snapshots.length !== DAYS) throw new Error(`expected ${DAYS} snapshots, found ${snapshots.length}`);

const timed = (fn) => {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const findMs = [];
const loopMs = [];
for (let rep = 0; rep < REPS; rep++) {
  findMs.push(
    timed(() => {
      const out = JSON.parse(cli('find', oldest, '--json').stdout);
      if (out.outcomes[0].value.sightings.length !== DAYS) throw new Error('find missed a snapshot');
    }),
  );
  loopMs.push(timed(() => snapshots.forEach((s) => run('git', ['merge-base', '--is-ancestor', oldest, 'HEAD'], { cwd: join(parent, s) }))));
}
const result = { snapshots: DAYS, commits: COMMITS, findMs: median(findMs), isAncestorLoopMs: median(loopMs), ratio: median(findMs) / median(loopMs) };
if (process.argv.includes('--json')) console.log(JSON.stringify(result, null, 2));
else {
  console.log(`find COMMIT over ${DAYS} snapshots of ${COMMITS} commits: ${result.findMs.toFixed(0)} ms`);
  console.log(`git merge-base --is-ancestor loop over the same snapshots: ${result.isAncestorLoopMs.toFixed(0)} ms`);
  console.log(`ratio ${result.ratio.toFixed(2)} (issue 12's bar: within 2)`);
}
rmSync(work, { recursive: true, force: true });
