// Runs one child process and collects its output as bytes: the bottom of the git executor (git.ts). Our own, not a
// library's: simple-git waited a fixed 50 ms after every call that printed nothing (its completion plugin), which
// was most of the cost of an init or a no-op sync (docs/BENCHMARKS.md "Scale").
import { spawn } from 'node:child_process';
import createDebug from 'debug';

// DEBUG=backup-manager:git prints every git call, its environment and how it ended; the debug library's output
// passes the redactor (debug-redact.ts, docs/OPERATIONS.md "Debug output").
const trace = createDebug('backup-manager:git');

/** After the child exited, how long its output pipes may stay open (a helper it started still holding them). */
const CLOSE_GRACE_MS = 100;

export interface ProcessResult {
  code: number;
  /** The signal that ended the child, if one did. */
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: Buffer;
}

export interface ProcessOptions {
  cwd: string;
  env: Record<string, string>;
  /** Bytes for the child's stdin; without them stdin is closed at once (end of file). */
  input?: Buffer;
  /** Interrupts the child (SIGINT, as a terminal would); the call then rejects. */
  signal?: AbortSignal;
  /** Sees each chunk of stderr as it arrives (git's progress); stderr is still collected. */
  onStderr?: (chunk: Buffer) => void;
}

export class ProcessAbortedError extends Error {}

/** Run `command` with `args` (an array: never a shell). Rejects only when it could not start or was aborted. */
export function runProcess(command: string, args: readonly string[], options: ProcessOptions): Promise<ProcessResult> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(new ProcessAbortedError(`${command} not started: aborted`));
  trace('%s %o in %s with env %o', command, args, options.cwd, options.env);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: 'pipe' });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr.push(chunk);
      options.onStderr?.(chunk);
    });
    let settled = false;
    let graceTimer: NodeJS.Timeout | undefined;
    const onAbort = () => child.kill('SIGINT');
    signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(graceTimer);
      signal?.removeEventListener('abort', onAbort);
      outcome();
    };
    child.on('error', (error) => finish(() => reject(error)));
    const done = () =>
      finish(() => {
        const result = { code: child.exitCode ?? -1, signal: child.signalCode, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) };
        trace('%s in %s ended: exit %d %s, stderr %o', command, options.cwd, result.code, result.signal ?? '', result.stderr.toString('utf8'));
        if (signal?.aborted) reject(new ProcessAbortedError(`${command} stopped: aborted`));
        else resolve(result);
      });
    child.on('close', done);
    child.on('exit', () => {
      graceTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        done();
      }, CLOSE_GRACE_MS);
    });
    // A child that exits without reading all of its input closes the pipe: its exit code says what went wrong.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
  });
}
