// Commands in the docs cannot drift: every shell block marked with the doc-check comment runs here, as written, with
// `backup-manager` on PATH (the built bundle), in a fresh directory holding a backup.config.yml for acme/widgets
// (a real local upstream) with a local-directory store, after the first sync of the quick start. A block fails the
// test if any of its commands exits non-zero (bash -e).
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLI } from './helpers/cli.ts';
import { createUpstream, makeTempDir } from './helpers/git-fixtures.ts';

const repoRoot = join(import.meta.dirname, '..');
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
function userDirectory(): { dir: string; env: Record<string, string>; cleanup: () => void } {
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
  return { dir, env, cleanup };
}

const blocks = markdownFiles().flatMap((file) => runnableBlocks(relative(repoRoot, file), readFileSync(file, 'utf8')));

describe('commands in the docs', () => {
  it('marks at least the README daily-use block', () => {
    expect(blocks.some((b) => b.file === 'README.md' && /backup-manager status/.test(b.script))).toBe(true);
  });

  it.each(blocks.map((b) => [`${b.file}:${b.line}`, b] as const))('%s runs as written', (_where, block) => {
    const { dir, env, cleanup } = userDirectory();
    try {
      const run = spawnSync('bash', ['-euo', 'pipefail', '-c', block.script], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
      expect(run.status, `${block.file}:${block.line} failed:\n${run.stdout}\n${run.stderr}`).toBe(0);
    } finally {
      cleanup();
    }
  });
});
