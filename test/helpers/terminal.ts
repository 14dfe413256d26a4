// Runs the bundled backup-manager on a real pseudo-terminal (util-linux `script`), the way a person at a terminal
// does: stderr is the terminal, stdout goes to a file, so what was drawn on the terminal is stderr alone. What the
// test types goes to the terminal's input: ^C there is the terminal's own SIGINT to the foreground process group.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, type CliResult } from './cli.ts';

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

export interface TerminalRun {
  /** Everything written to the terminal so far, \r\n read as \n. */
  terminal(): string;
  /** Type on the terminal ("\x03" is ^C). */
  type(text: string): void;
  /** `terminal`: every byte written to the terminal (stderr); `stdout`: what went to the redirected stdout. */
  done: Promise<CliResult & { terminal: string }>;
}

export function startCliOnTerminal(args: string[], env: NodeJS.ProcessEnv = {}): TerminalRun {
  const dir = mkdtempSync(join(tmpdir(), 'gpb-tty-'));
  const stdoutFile = join(dir, 'stdout');
  // exec: backup-manager itself is the terminal's foreground process, as when a person runs it.
  const command = `exec ${[process.execPath, CLI, ...args].map(quote).join(' ')} > ${quote(stdoutFile)}`;
  // -e: script exits with the command's code; -f: flush as it goes; -q: no "Script started" lines.
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, BACKUP_RETRY_BASE_MS: '10', TERM: 'xterm', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let terminal = '';
  let stderr = '';
  child.stdout.on('data', (d) => (terminal += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult & { terminal: string }>((resolve) =>
    child.on('close', (code, signal) => {
      const stdout = readFileSync(stdoutFile, 'utf8');
      rmSync(dir, { recursive: true, force: true });
      // stderr here is script's own (empty unless script failed).
      resolve({ code, signal, terminal: terminal.replaceAll('\r\n', '\n'), stdout, stderr });
    }),
  );
  return { terminal: () => terminal.replaceAll('\r\n', '\n'), type: (text) => child.stdin.write(text), done };
}

export function runCliOnTerminal(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult & { terminal: string }> {
  return startCliOnTerminal(args, env).done;
}
