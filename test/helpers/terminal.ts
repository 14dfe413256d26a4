// Runs the bundled backup-manager on a real pseudo-terminal (util-linux `script`), the way a person at a terminal
// does: stderr is the terminal, stdout goes to a file, so what was drawn on the terminal is stderr alone.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, type CliResult } from './cli.ts';

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

/** `terminal`: every byte written to the terminal (stderr); `stdout`: what went to the redirected stdout. */
export async function runCliOnTerminal(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult & { terminal: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'gpb-tty-'));
  const stdoutFile = join(dir, 'stdout');
  try {
    const command = [process.execPath, CLI, ...args].map(quote).join(' ');
    // -e: script exits with the command's code; -f: flush as it goes; -q: no "Script started" lines.
    const child = spawn('script', ['-qfec', `${command} > ${quote(stdoutFile)}`, '/dev/null'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, BACKUP_RETRY_BASE_MS: '10', TERM: 'xterm', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let terminal = '';
    let stderr = '';
    child.stdout.on('data', (d) => (terminal += d));
    child.stderr.on('data', (d) => (stderr += d));
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (c, s) => resolve({ code: c, signal: s })));
    // The terminal turns each \n into \r\n; stderr here is script's own (empty unless script failed).
    return { code, signal, terminal: terminal.replaceAll('\r\n', '\n'), stdout: readFileSync(stdoutFile, 'utf8'), stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
