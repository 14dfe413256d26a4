// Commands in the docs cannot drift: every shell block marked with the doc-check comment runs here, as written, with
// `backup-manager` on PATH (the built bundle), in a fresh directory holding a backup.config.yml for acme/widgets
// (a real local upstream) with a local-directory store, after the first sync of the quick start. A block fails the
// test if any of its commands exits non-zero (bash -e -o pipefail).
//
// CI has no Docker engine and no network, so before it runs, a block gets these substitutions (asRunHere), and
// nothing else:
// - the container's commands run on the host: `docker exec [-e VAR] github-private-backup CMD` is `CMD`, and a one-off
//   `docker compose -f docker-compose.github-backup.yml run --rm --no-deps [-v "$PWD/D:/M"] github-private-backup CMD`
//   is `CMD` with the volume's `/M/` read as `./D/`; the container's root `/backup/` is the user's `./backup/`;
// - `sudo chown …` (handing a directory to or from the container's UID 1001) is not needed, and `sudo` is dropped;
// - the runbook's example repository `my-org/api` is the configured acme/widgets, and its example snapshot names
//   (snapshot-YYYYMMDD-HHMMSS) are the newest real one;
// - https://github.com/acme/widgets.git is the local upstream; any other https://github.com/OWNER/NAME.git is a new,
//   empty local repository (a remote to push to).
// Blocks of docs/RESTORE_RUNBOOK.md get its `bm` function first, substituted the same way.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLI } from './helpers/cli.ts';
import { createUpstream, makeTempDir } from './helpers/git-fixtures.ts';

const repoRoot = join(import.meta.dirname, '..');
/** The runbook's `bm` after the substitutions: its definition block is checked to say exactly this. */
const RUNBOOK_BM = 'bm() { backup-manager "$@"; }';
const MARKER = '<!-- doc-check:';

interface RunnableBlock {
  file: string;
  line: number;
  script: string;
}

/** Fenced sh blocks whose fence is on the line right after a doc-check marker. */
function runnableBlocks(file: string, text: string): RunnableBlock[] {
  const lines = text.split('\n');
  const blocks: RunnableBlock[] = [];
  for (let i = 0; i < lines.length - 1; i++) {
    if (!lines[i]!.trim().startsWith(MARKER) || !/^\s*```(sh|bash)\s*$/.test(lines[i + 1]!)) continue;
    const end = lines.findIndex((l, j) => j > i + 1 && /^\s*```\s*$/.test(l));
    expect(end, `${file}:${i + 2}: unterminated code block`).toBeGreaterThan(i);
    blocks.push({ file, line: i + 2, script: lines.slice(i + 2, end).join('\n') });
  }
  return blocks;
}

function markdownFiles(): string[] {
  const docs = readdirSync(join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(repoRoot, 'docs', f));
  return [join(repoRoot, 'README.md'), ...docs];
}

/** A directory like a user's after the quick start: config, first sync done, backup-manager on PATH. */
function userDirectory(): { dir: string; env: Record<string, string>; upstreamUrl: string; cleanup: () => void } {
  const upstream = createUpstream({ owner: 'acme', name: 'widgets' });
  const dir = makeTempDir('gpb-docs-');
  const bin = join(dir, '.bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'backup-manager'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(join(bin, 'backup-manager'), 0o755);
  writeFileSync(
    join(dir, 'backup.config.yml'),
    [
      'root: ./backup',
      'repositories:',
      `  - { repo: acme/widgets, url: ${pathToFileURL(upstream.bare).href} }`,
      'store:',
      `  url: ${pathToFileURL(join(dir, '.store')).href}`,
      '',
    ].join('\n'),
  );
  const env = {
    PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: dir,
    GIT_CONFIG_NOSYSTEM: '1',
    BACKUP_RETRY_BASE_MS: '10',
  };
  const first = spawnSync('backup-manager', ['sync'], { cwd: dir, env, encoding: 'utf8' });
  expect(first.status, `first sync: ${first.stderr}`).toBe(0);
  const cleanup = () => {
    spawnSync('chmod', ['-R', 'u+w', dir]);
    rmSync(dir, { recursive: true, force: true });
    upstream.cleanup();
  };
  return { dir, env, upstreamUrl: pathToFileURL(upstream.bare).href, cleanup };
}

interface Here {
  dir: string;
  upstreamUrl: string;
  /** The newest snapshot of acme/widgets. */
  snapshot: string;
}

/** `script` as it runs here: the substitutions in this file's header, nothing else. */
function asRunHere(script: string, here: Here): string {
  return (
    script
      // A continued line is one command: join it, as bash does.
      .replace(/\s*\\\n\s*/g, ' ')
      .split('\n')
      .map((line) => {
        const volume = /docker compose -f docker-compose\.github-backup\.yml run --rm --no-deps (?:-v "\$PWD\/([\w.-]+):\/([\w.-]+)" )?github-private-backup /.exec(line);
        if (volume) {
          line = line.replace(volume[0], '');
          if (volume[1]) line = line.replaceAll(` /${volume[2]}/`, ` ./${volume[1]}/`);
        }
        return line
          .replace(/docker exec (?:-e \w+ )*github-private-backup /g, '')
          .replace(/(^\s*|&& |; )sudo chown [^&;|#]*/g, '$1true ')
          .replace(/(^|&& |; )sudo /g, '$1')
          .replace(/(?<![\w.])\/backup\//g, './backup/');
      })
      .join('\n')
      .replaceAll('my-org/api', 'acme/widgets')
      .replace(/snapshot-\d{8}-\d{6}/g, here.snapshot)
      .replace(/https:\/\/github\.com\/([\w.-]+)\/([\w.-]+?)\.git/g, (_url, owner: string, name: string) => {
        if (`${owner}/${name}` === 'acme/widgets') return here.upstreamUrl;
        const remote = join(here.dir, '.remotes', owner, `${name}.git`);
        if (!existsSync(remote)) {
          mkdirSync(remote, { recursive: true });
          spawnSync('git', ['init', '--bare', '--quiet', remote]);
        }
        return pathToFileURL(remote).href;
      })
  );
}

const blocks = markdownFiles().flatMap((file) => runnableBlocks(relative(repoRoot, file), readFileSync(file, 'utf8')));

describe('commands in the docs', () => {
  it('marks at least the README daily-use block', () => {
    expect(blocks.some((b) => b.file === 'README.md' && /backup-manager status/.test(b.script))).toBe(true);
  });

  it('marks the restore runbook\'s drill, and its bm is the CLI on the host', () => {
    const runbook = blocks.filter((b) => b.file === 'docs/RESTORE_RUNBOOK.md');
    expect(runbook.some((b) => /^## 4\. The drill/m.test(readFileSync(join(repoRoot, b.file), 'utf8').split('\n').slice(0, b.line).reverse().find((l) => l.startsWith('## ')) ?? ''))).toBe(true);
    const definition = runbook.find((b) => /^bm\(\)/.test(b.script));
    expect(definition && asRunHere(definition.script, { dir: '/x', upstreamUrl: 'file:///x', snapshot: 'snapshot-20260101-000000' })).toBe(RUNBOOK_BM);
  });

  it.each(blocks.map((b) => [`${b.file}:${b.line}`, b] as const))('%s runs as written', (_where, block) => {
    const { dir, env, upstreamUrl, cleanup } = userDirectory();
    try {
      const snapshots = readdirSync(join(dir, 'backup', 'snapshots', 'acme', 'widgets')).filter((n) => n.startsWith('snapshot-')).sort();
      const script = asRunHere(block.script, { dir, upstreamUrl, snapshot: snapshots.at(-1)! });
      const prelude = block.file === 'docs/RESTORE_RUNBOOK.md' ? `${RUNBOOK_BM}\n` : '';
      const run = spawnSync('bash', ['-euo', 'pipefail', '-c', prelude + script], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
      expect(run.status, `${block.file}:${block.line} failed:\n${script}\n---\n${run.stdout}\n${run.stderr}`).toBe(0);
    } finally {
      cleanup();
    }
  });
});
