// Every git call goes through one executor that takes an argument array (never a shell string) and carries the
// token per invocation: through an environment variable named by --config-env, so it is never on a command line,
// never in .git/config and never in a log.
import { existsSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { AbortedError, BackupError, errorMessage } from '../errors.ts';
import { beginStep } from '../activity.ts';
import { RUN_MARKER_ENV, runMarker } from '../process-tree.ts';
import { runProcess } from './spawn.ts';
import { currentDeadline, DEADLINE_MARKER_ENV, deadlineMessage, stallConfig } from './deadline.ts';
import { progressReader, withoutProgress } from './progress.ts';
import type { TransferProgress } from '../progress.ts';
import type { Redactor } from '../redact.ts';

const AUTH_ENV = 'GPB_GIT_AUTH_HEADER';

export interface GitRunOptions {
  /** Send the token with this call (fetch, ls-remote, push to an https remote). */
  auth?: boolean;
  /** Accept these exit codes as answers rather than errors (e.g. merge-base --is-ancestor answers 1). */
  okExitCodes?: number[];
  /** Bytes for git's stdin (update-ref --stdin -z: ref names that are not UTF-8 cannot go through argv). */
  input?: Buffer;
  /**
   * Run git with --progress (right after the subcommand) and report its transfer progress from stderr. Only for a
   * person watching (a terminal); a caller asking for it leaves out --quiet, which also silences git's own part.
   */
  progress?: (progress: TransferProgress) => void;
}

export interface GitCommandManager {
  run(cwd: string, args: string[], options?: GitRunOptions): Promise<string>;
  /** Like run, with stdout as raw bytes: ref names are bytes, not necessarily UTF-8 (docs/OPERATIONS.md). */
  runBytes(cwd: string, args: string[], options?: GitRunOptions): Promise<Buffer>;
  /** Exit code of a question-style command (0/1), other failures throw. */
  test(cwd: string, args: string[]): Promise<boolean>;
}

export interface GitFactoryOptions {
  /** A token, or a provider asked at every authenticated call (GitHub App tokens are renewed during a run). */
  token?: string | (() => Promise<string | undefined>);
  redactor: Redactor;
  /** Host whose https URLs get the token, e.g. https://github.com/ (the header is scoped to it). */
  authScope?: string;
  /** Stops every running git at once (SIGINT) and fails later calls: the run was stopped. */
  signal?: AbortSignal;
  /** Abandon an http(s) transfer that moves less than a byte a second for this long (0: never). */
  stallSeconds?: number;
}

// Settings that keep git from rewriting anything behind a snapshot's back and from running anything it finds.
const BASE_CONFIG = [
  '-c', 'gc.auto=0',
  '-c', 'maintenance.auto=false',
  '-c', 'core.hooksPath=/dev/null',
  '-c', 'core.fsmonitor=false',
  '-c', 'credential.helper=',
  // Every fetch keeps one pack that snapshots hard-link, whatever the mirror's own config says.
  '-c', 'fetch.unpackLimit=1',
  // A URL with a password or token in it is refused by git in every call, not only in our repositories' config
  // (git >= 2.41; older git ignores the key).
  '-c', 'transfer.credentialsInUrl=die',
];

/**
 * The arguments of one git call. The directory it runs in is ours (the mirror, a snapshot checked first, a scratch
 * or restored repository we wrote), and may be owned by another UID (a restored volume, a container): that one
 * directory is trusted, by its real path as git compares it. Every other repository keeps git's ownership check.
 */
export function gitArgs(cwd: string, args: string[], extraConfig: string[] = []): string[] {
  return [...BASE_CONFIG, '-c', `safe.directory=${realPathOrSelf(cwd)}`, ...extraConfig, ...args];
}

function realPathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path; // a missing directory: the call fails on its own with a clear error
  }
}

const PASSED_ENV = ['PATH', 'HOME', 'TMPDIR', 'SSH_AUTH_SOCK', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'];

/**
 * "git fetch failed in DIR:" and git's own lines below it, indented, so a multi-line stderr stays readable. A
 * temporary directory of ours (.tmp-…) is gone by the time anyone reads the message: name where it was instead.
 */
export function gitFailureMessage(command: string, cwd: string, stderr: string): string {
  const temporary = /(^|\/)\.tmp-[^/]*$|\/\.[^/]+\.restore-[0-9a-fx.-]+$/.test(cwd);
  const where = temporary ? `a temporary directory in ${dirname(cwd)}` : cwd;
  const lines = stderr.trim().split('\n').map((l) => l.trimEnd()).filter(Boolean);
  return `git ${command} failed in ${where}:${lines.map((l) => `\n    ${l}`).join('')}`;
}

/** Why git could not start: spawn says ENOENT both for a missing git and for a missing directory to run it in. */
function startFailure(error: unknown, cwd: string): string {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return errorMessage(error);
  return existsSync(cwd) ? 'git is not installed (not found on PATH)' : `the directory ${cwd} does not exist`;
}

export function createGitCommandManager(options: GitFactoryOptions): GitCommandManager {
  const { token, redactor } = options;
  // git gets a small, known environment: nothing inherited can point it at an editor, pager, askpass or config.
  const baseEnv: Record<string, string> = {};
  for (const key of PASSED_ENV) {
    const value = process.env[key];
    if (value !== undefined) baseEnv[key] = value;
  }
  Object.assign(baseEnv, {
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    LC_ALL: 'C',
    // Names this run in every git it starts and their helpers: the next run can tell a dead run's git (recover.ts).
    [RUN_MARKER_ENV]: runMarker(),
  });
  const currentToken = typeof token === 'function' ? token : () => Promise.resolve(token);
  const authEnvWith = (value: string) => ({ ...baseEnv, [AUTH_ENV]: `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${value}`).toString('base64')}` });
  const scope = options.authScope ? `http.${options.authScope}.extraheader` : 'http.extraheader';
  const stall = stallConfig(options.stallSeconds ?? 0);

  async function exec(cwd: string, args: string[], runOptions: GitRunOptions = {}): Promise<{ code: number; out: string; bytes: Buffer }> {
    // Asked per call: the token git gets is the one valid now.
    const callToken = runOptions.auth ? await currentToken() : undefined;
    if (callToken) redactor.add(callToken);
    const useAuth = Boolean(callToken);
    const authEnv = callToken ? authEnvWith(callToken) : baseEnv;
    const { progress } = runOptions;
    const callArgs = progress ? [args[0]!, '--progress', ...args.slice(1)] : args;
    const full = gitArgs(cwd, callArgs, [...stall, ...(useAuth ? [`--config-env=${scope}=${AUTH_ENV}`] : [])]);
    // The repository's deadline (deadline.ts) also fires when the run is stopped: either way git is interrupted.
    const deadline = currentDeadline();
    const env = { ...(useAuth ? authEnv : baseEnv), ...(deadline ? { [DEADLINE_MARKER_ENV]: deadline.marker } : {}) };
    const endStep = beginStep(`git ${args[0]}`);
    try {
      const result = await runProcess('git', full, {
        cwd,
        env,
        input: runOptions.input,
        signal: deadline?.signal ?? options.signal,
        ...(progress ? { onStderr: progressReader(progress) } : {}),
      });
      if (result.code === 0) return { code: 0, out: result.stdout.toString('utf8'), bytes: result.stdout };
      if (runOptions.okExitCodes?.includes(result.code)) return { code: result.code, out: '', bytes: Buffer.alloc(0) };
      const raw = result.stderr.toString('utf8');
      const stderr = (progress ? withoutProgress(raw) : raw).trim();
      throw new BackupError(redactor.redact(gitFailureMessage(args[0] ?? 'git', cwd, stderr || `exit code ${result.code}${result.signal ? ` (${result.signal})` : ''}`)));
    } catch (error) {
      if (options.signal?.aborted) throw new AbortedError(`stopped on request during git ${args[0]}`);
      if (deadline?.signal.aborted) throw new BackupError(deadlineMessage(deadline, `git ${args[0]}`));
      if (error instanceof BackupError) throw error;
      throw new BackupError(redactor.redact(gitFailureMessage(args[0] ?? 'git', cwd, startFailure(error, cwd))));
    } finally {
      endStep();
    }
  }

  return {
    async run(cwd, args, runOptions) {
      return (await exec(cwd, args, runOptions)).out;
    },
    async runBytes(cwd, args, runOptions) {
      return (await exec(cwd, args, runOptions)).bytes;
    },
    async test(cwd, args) {
      return (await exec(cwd, args, { okExitCodes: [1] })).code === 0;
    },
  };
}
