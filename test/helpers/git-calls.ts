// A `git` first on PATH that records each call's subcommand, then runs the real git: what a run of the CLI spent,
// counted from outside (git's own helpers, such as upload-pack and index-pack, start by their full path and are
// not counted). The log's path is written into the script: the engine passes git only a few variables.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface GitCallLog {
  /** PATH with the recording git first. */
  path: string;
  /** The subcommands called since the last take, in order; the log is emptied. */
  take(): string[];
}

export function recordGitCalls(dir: string): GitCallLog {
  const bin = join(dir, 'recording-bin');
  const log = join(dir, 'git-calls.log');
  mkdirSync(bin, { recursive: true });
  const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  // The subcommand is the first argument that is neither an option nor the value of -c / -C.
  const script = [
    '#!/bin/sh',
    'sub=; skip=',
    'for a in "$@"; do',
    '  if [ -n "$skip" ]; then skip=; continue; fi',
    '  case "$a" in -c|-C) skip=1 ;; -*) ;; *) sub=$a; break ;; esac',
    'done',
    `echo "\${sub:-?}" >> '${log}'`,
    `exec '${realGit}' "$@"`,
  ];
  writeFileSync(join(bin, 'git'), `${script.join('\n')}\n`);
  chmodSync(join(bin, 'git'), 0o755);
  return {
    path: `${bin}${delimiter}${process.env.PATH ?? ''}`,
    take() {
      const calls = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
      rmSync(log, { force: true });
      return calls;
    },
  };
}
