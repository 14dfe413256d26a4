// Everything an engine operation needs, built once per engine from its options.
import { AbortedError } from '../errors.ts';
import { stallSecondsFromEnv } from '../git/deadline.ts';
import { createGitCommandManager, type GitCommandManager } from '../git/git.ts';
import { credentialsFor, type GitHubCredentials } from '../github/credentials.ts';
import { createPacer, type Pacer } from './pacer.ts';
import type { BackupSettings } from '../config.ts';
import { Layout } from '../layout.ts';
import { FileLogger, type Logger } from '../log.ts';
import { redactDebugOutput } from '../debug-redact.ts';
import { Redactor } from '../redact.ts';
import { serverUrlFromApiUrl } from '../targets.ts';
import type { EngineOptions } from './api.ts';
import type { ProgressSink } from '../progress.ts';

export interface EngineContext {
  settings: BackupSettings;
  layout: Layout;
  git: GitCommandManager;
  logger: Logger;
  redactor: Redactor;
  clock: () => Date;
  signal?: AbortSignal;
  /** Set only when someone watches (EngineOptions.onProgress); report through src/engine/progress.ts. */
  progress?: ProgressSink;
  serverUrl: string;
  /** What authenticates git and the API: ask `github.token` per request (src/github/credentials.ts). */
  github: GitHubCredentials;
  /** Watches the API budget (give `pacer.observe` to every API client) and slows the run loop when it runs low. */
  pacer: Pacer;
  /** Delay before the n-th retry of a transient network failure. */
  retryDelayMs: (attempt: number) => number;
}

export function createContext(options: EngineOptions): EngineContext {
  const { settings } = options;
  const clock = options.clock ?? (() => new Date());
  // The daemon and anything else embedding an engine get redacted debug output too.
  redactDebugOutput();
  const redactor = new Redactor();
  redactor.add(settings.token);
  const layout = new Layout(settings.root);
  const serverUrl = serverUrlFromApiUrl(settings.apiUrl);
  const extra = options.logger;
  const logger = new FileLogger({
    logsDir: layout.logsDir,
    redactor,
    clock,
    sinks: extra ? [{ write: (line, level) => extra.log(level, line) }] : [],
  });
  const pacer = createPacer({ concurrency: settings.concurrency, logger, signal: options.signal });
  const github = credentialsFor(settings, { redactor, serverUrl, log: (line, fields) => logger.log('info', line, fields) });
  return {
    settings,
    layout,
    git: createGitCommandManager({ token: github.token, redactor, authScope: `${serverUrl}/`, signal: options.signal, stallSeconds: stallSecondsFromEnv() }),
    logger,
    redactor,
    clock,
    signal: options.signal,
    ...(options.onProgress ? { progress: harmless(options.onProgress, logger) } : {}),
    serverUrl,
    github,
    pacer,
    retryDelayMs: (attempt) => Number(process.env.BACKUP_RETRY_BASE_MS ?? 2000) * 2 ** (attempt - 1),
  };
}

/** A watcher's failure is logged, never the backup's: progress is a courtesy. */
function harmless(sink: ProgressSink, logger: Logger): ProgressSink {
  let warned = false;
  return (event) => {
    try {
      sink(event);
    } catch (error) {
      if (!warned) logger.log('warn', `progress display failed: ${error instanceof Error ? error.message : String(error)}`);
      warned = true;
    }
  };
}

export function throwIfAborted(ctx: EngineContext): void {
  if (ctx.signal?.aborted) throw new AbortedError();
}
