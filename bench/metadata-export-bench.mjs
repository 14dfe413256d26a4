#!/usr/bin/env node
// node bench/metadata-export-bench.mjs: what export --metadata costs (docs/BENCHMARKS.md "export --metadata").
//
//  1. A small upstream and its mirror (backup-manager init), and a live metadata repository where the capture
//     writes it (docs/METADATA_FORMAT.md): N issue documents (default 5,000, three comments each) and N/10 pull
//     requests with a review and a review thread each, committed with git fast-import; one snapshot carries it.
//  2. `backup-manager export latest --metadata` (read and validate every document, write one page per record),
//     median of --reps; and the floor for the same work without any of ours: `git archive` of the metadata commit
//     unpacked by `tar -x` (read every blob, write one file per document). Ratios are to runs in this process.
//
// Uses the bundled CLI (dist/backup-manager.mjs): build first. No network, no token.
// Options: --issues N (default 5000), --reps N (default 3), --json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI, option } from './harness.mjs';

const ISSUES = option('issues', 5000);
const PULLS = Math.ceil(ISSUES / 10);
const REPS = option('reps', 3);
if (!existsSync(CLI)) {
  console.error(`${CLI} is missing: run "npm run build" first.`);
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'backup-export-bench-'));
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C' };
const now = () => Number(process.hrtime.bigint()) / 1e6;
const fmtMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const log = (line) => process.stdout.write(`${line}\n`);
function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 1 << 28, ...options });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${result.status}: ${result.stderr || result.stdout}`);
  return result.stdout;
}
const timed = (fn) => {
  const start = now();
  fn();
  return now() - start;
};

const upstream = join(work, 'upstream', 'bench', 'meta.git');
const root = join(work, 'root');
const cli = (...args) => [CLI, ...args, '--root', root, '--repo', pathToFileURL(upstream).href];
const live = join(root, 'metadata', 'bench', 'meta.git');

mkdirSync(upstream, { recursive: true });
run('git', ['init', '--bare', '--quiet', '--initial-branch=main', upstream]);
const seed = join(work, 'seed');
run('git', ['clone', '--quiet', upstream, seed]);
writeFileSync(join(seed, 'README'), 'bench\n');
run('git', ['-C', seed, 'add', '.']);
run('git', ['-C', seed, '-c', 'user.name=b', '-c', 'user.email=b@example.com', 'commit', '--quiet', '-m', 'one']);
run('git', ['-C', seed, 'push', '--quiet', 'origin', 'main']);
run(process.execPath, cli('init'));

const T = '2026-01-01T00:00:00Z';
const doc = (value) => `${JSON.stringify(value, null, 2)}\n`;
const comment = (id, n) => ({ id, author: 'hubot', body: `A comment on ${n}, with <html> & "quotes" to escape.`, createdAt: T, updatedAt: T });
const issue = (n) => ({
  number: n, title: `Issue ${n}: it <breaks>`, body: 'What happened, in a paragraph or two. '.repeat(8), state: n % 3 ? 'open' : 'closed', author: 'octocat',
  createdAt: T, updatedAt: T, closedAt: n % 3 ? null : T, labels: ['bug'], assignees: [], milestone: null, locked: false,
  comments: [1, 2, 3].map((k) => comment(n * 10 + k, n)),
});
const pull = (n) => ({
  ...issue(n), draft: false, merged: false, mergedAt: null, mergeCommitSha: null,
  base: { ref: 'main', sha: 'a'.repeat(40), repository: 'bench/meta' }, head: { ref: `topic-${n}`, sha: 'b'.repeat(40), repository: 'bench/meta' },
  reviews: [{ id: n * 10 + 5, author: 'reviewer', state: 'COMMENTED', body: 'Looks fine.', submittedAt: T, commitId: 'b'.repeat(40) }],
  reviewComments: [6, 7].map((k) => ({ ...comment(n * 10 + k, n), reviewId: n * 10 + 5, inReplyTo: k === 7 ? n * 10 + 6 : null, path: 'src/x.ts', diffHunk: '@@ -1,3 +1,4 @@\n line\n-old <a>\n+new <b>', line: 2, originalLine: 2, side: 'RIGHT', commitId: 'b'.repeat(40), originalCommitId: 'b'.repeat(40) })),
});
const files = [
  ['format.json', doc({ format: 'github-private-backup-metadata', version: 1 })],
  ['capture.json', doc({ capturedAt: '2026-01-01T02:00:00Z', repository: 'bench/meta', kinds: { issues: { state: 'complete', count: ISSUES }, pulls: { state: 'complete', count: PULLS } } })],
];
for (let n = 1; n <= ISSUES; n++) files.push([`issues/${n}.json`, doc(issue(n))]);
for (let n = ISSUES + 1; n <= ISSUES + PULLS; n++) files.push([`pulls/${n}.json`, doc(pull(n))]);
mkdirSync(live, { recursive: true });
run('git', ['init', '--bare', '--quiet', '--template=', '--initial-branch=main', live]);
const lines = ['commit refs/heads/main', 'committer capture <capture@localhost> 1767225600 +0000', 'data 7', 'capture'];
for (const [path, text] of files) lines.push(`M 100644 inline ${path}`, `data ${Buffer.byteLength(text)}`, text);
run('git', ['--git-dir', live, 'fast-import', '--quiet'], { input: `${lines.join('\n')}\n` });
run(process.execPath, cli('snapshot'));
const snapshot = join(root, 'snapshots', 'bench', 'meta', readdirSync(join(root, 'snapshots', 'bench', 'meta')).sort().at(-1));
const metadataRepo = join(snapshot, 'github-metadata', 'repo.git');

const exportMs = [];
const floorMs = [];
for (let i = 0; i < REPS; i++) {
  const site = join(work, `site-${i}`);
  exportMs.push(timed(() => run(process.execPath, cli('export', 'latest', '--metadata', '--output', site))));
  const floor = join(work, `floor-${i}`);
  mkdirSync(floor);
  floorMs.push(timed(() => run('sh', ['-c', 'git --git-dir "$1" archive main | tar -x -C "$2"', 'sh', metadataRepo, floor])));
  if (i === 0) {
    const pages = readdirSync(join(site, 'issues')).length + readdirSync(join(site, 'pulls')).length;
    if (pages !== ISSUES + PULLS) throw new Error(`expected ${ISSUES + PULLS} pages, found ${pages}`);
  }
  rmSync(site, { recursive: true, force: true });
  rmSync(floor, { recursive: true, force: true });
}
const result = { issues: ISSUES, pulls: PULLS, exportMs: median(exportMs), floorMs: median(floorMs) };
log(`export --metadata: ${ISSUES} issues and ${PULLS} pull requests (3 comments each; a review and a 2-comment thread per pull request), median of ${REPS}`);
log(`  export --metadata (CLI, whole process): ${fmtMs(result.exportMs)} (${(result.exportMs / result.floorMs).toFixed(1)}x the floor)`);
log(`  floor, git archive | tar -x of the same documents: ${fmtMs(result.floorMs)}`);
if (process.argv.includes('--json')) log(JSON.stringify(result));
rmSync(work, { recursive: true, force: true });
