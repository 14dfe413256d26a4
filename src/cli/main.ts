// backup-manager: parse the command line, call the engine, render its result, exit with a documented code.
import { parseArgs } from 'node:util';
import { resolveSettings } from '../config.ts';
import { createEngine } from '../engine/index.ts';
import { ExitCode, EXIT_CODE_HELP, errorMessage, exitCodeOf, hintOf, UsageError } from '../errors.ts';
import { withHint } from '../hints.ts';
import { redactDebugOutput } from '../debug-redact.ts';
import { Redactor, redactEverySecret } from '../redact.ts';
import { describeStop } from '../activity.ts';
import { stopOnSignals } from '../stop-signals.ts';
import { TOOL_VERSION } from '../version.ts';
import { firstUnknownOption, unknownOptionMessage } from './argv.ts';
import { ProgressLine } from './progress-line.ts';
import type { Command, OptionSpec } from './command.ts';
import { daemonCommand } from './daemon.ts';
import { diffCommand } from './diff.ts';
import { findCommand } from './find.ts';
import { exportCommand } from './export.ts';
import { initCommand } from './init.ts';
import { listCommand } from './list.ts';
import { mcpCommand } from './mcp.ts';
import { GLOBAL_HELP, GLOBAL_OPTIONS, overridesFrom } from './options.ts';
import { pruneCommand } from './prune.ts';
import { repositoriesCommand } from './repositories.ts';
import { restoreCommand } from './restore.ts';
import { storeCommand } from './store.ts';
import { snapshotCommand } from './snapshot.ts';
import { healthCommand, statusCommand } from './status.ts';
import { syncCommand } from './sync.ts';
import { unpinCommand } from './unpin.ts';
import { verifyCommand } from './verify.ts';

export const COMMANDS: Command<never>[] = [
  initCommand,
  syncCommand,
  snapshotCommand,
  unpinCommand,
  listCommand,
  repositoriesCommand,
  statusCommand,
  healthCommand,
  verifyCommand,
  pruneCommand,
  restoreCommand,
  exportCommand,
  diffCommand,
  findCommand,
  storeCommand,
  daemonCommand,
  mcpCommand,
] as unknown as Command<never>[];

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Set when stderr is a terminal: a person is watching, and progress is drawn for them. */
  terminal?: { columns: () => number };
}

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `backup-manager ${TOOL_VERSION}: point-in-time backups of GitHub repositories`,
    '',
    'USAGE',
    '  backup-manager <command> [options]',
    '',
    'COMMANDS',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    GLOBAL_HELP,
    '',
    'ENVIRONMENT',
    '  GITHUB_TOKEN or GITHUB_TOKEN_FILE (token for fetch, push and the API; never written anywhere),',
    '  or a GitHub App: GITHUB_APP_ID with GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_FILE',
    '  [, GITHUB_APP_INSTALLATION_ID] (installation tokens minted and renewed by the tool),',
    '  BACKUP_ROOT, BACKUP_CONFIG,',
    '  BACKUP_RETENTION_DAYS, BACKUP_SCHEDULE (daemon), GITHUB_API_URL,',
    '  BACKUP_STALL_SECONDS, BACKUP_REPO_TIMEOUT_SECONDS (bounds on a silent network: docs/OPERATIONS.md)',
    '',
    EXIT_CODE_HELP,
    '',
    'Run "backup-manager <command> --help" for a command\'s options.',
  ].join('\n');
}

function commandUsage(command: Command<never>): string {
  return [`backup-manager ${command.usage}`, '', command.summary, ...(command.help ? ['', 'OPTIONS', command.help] : []), '', GLOBAL_HELP, '', EXIT_CODE_HELP].join('\n');
}

function allCommandOptions(): OptionSpec {
  return Object.assign({}, ...COMMANDS.map((c) => c.options ?? {}));
}

export async function main(argv: string[], screen: Io, env: NodeJS.ProcessEnv = process.env, signal: AbortSignal = new AbortController().signal): Promise<number> {
  redactDebugOutput();
  // Anything printed first erases the progress line, which the next progress event draws again.
  let progressLine: ProgressLine | undefined;
  const io: Io = {
    stdout: (text) => {
      progressLine?.clear();
      screen.stdout(text);
    },
    stderr: (text) => {
      progressLine?.clear();
      screen.stderr(text);
    },
  };
  const redactor = new Redactor();
  redactor.add(env.GITHUB_TOKEN);
  // Known before parsing, so even a bad command line or config answers a --json caller in JSON.
  const json = argv.includes('--json');
  let commandName: string | null = null;
  try {
    // First pass finds the command wherever global options stand; the second is strict for that command.
    const loose = parseArgs({ args: argv, options: { ...GLOBAL_OPTIONS, ...allCommandOptions() }, allowPositionals: true, strict: false });
    const name = loose.positionals[0];
    if (loose.values.version) {
      io.stdout(`${TOOL_VERSION}\n`);
      return ExitCode.OK;
    }
    if (!name || name === 'help') {
      const unknown = firstUnknownOption(argv, { ...GLOBAL_OPTIONS, ...allCommandOptions() });
      // Say what was wrong before the usage that follows it.
      if (unknown && !loose.values.help) io.stderr(`backup-manager: ${unknownOptionMessage(unknown, GLOBAL_OPTIONS)}\n\n`);
      const topic = COMMANDS.find((c) => c.name === loose.positionals[1]);
      io.stdout(`${topic ? commandUsage(topic) : usage()}\n`);
      return name || loose.values.help ? ExitCode.OK : ExitCode.USAGE;
    }
    commandName = name;
    const command = COMMANDS.find((c) => c.name === name);
    if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}; commands: ${COMMANDS.map((c) => c.name).join(', ')}`);
    const options = { ...GLOBAL_OPTIONS, ...command.options };
    let parsed;
    try {
      parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    } catch (error) {
      const unknown = (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? firstUnknownOption(argv, options) : null;
      const problem = unknown ? unknownOptionMessage(unknown, options) : errorMessage(error);
      throw new UsageError(`${name}: ${problem} (see "backup-manager ${name} --help")`);
    }
    if (parsed.values.help) {
      io.stdout(`${commandUsage(command)}\n`);
      return ExitCode.OK;
    }
    const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
    const settings = resolveSettings(overridesFrom(values), env);
    redactor.add(settings.token);
    redactor.add(settings.githubApp?.privateKey);
    const verbose = Boolean(values.verbose);
    if (verbose) io.stderr(`config: ${settings.configFile ?? 'none (no --config, BACKUP_CONFIG or ./backup.config.yml)'}\n`);
    if (screen.terminal && !values.quiet && env.TERM !== 'dumb') {
      const { columns } = screen.terminal;
      // NO_COLOR (no-color.org): any non-empty value.
      progressLine = new ProgressLine({ write: screen.stderr, redact: (text) => redactor.redact(text), color: !env.NO_COLOR, columns });
    }
    const engine = createEngine({
      settings,
      signal,
      ...(progressLine ? { onProgress: (event) => progressLine?.handle(event) } : {}),
      logger: { log: (level, line) => (verbose || level === 'warn' || level === 'error' ? io.stderr(`${line}\n`) : undefined) },
    });
    const result = await command.execute({
      engine,
      settings,
      env,
      values,
      positionals: parsed.positionals.slice(1),
      signal,
      progress: (line) => io.stderr(`${redactor.redact(line)}\n`),
      emitJsonLine: (value) => io.stdout(`${redactor.redact(JSON.stringify(value))}\n`),
    });
    if (!(values.json && command.jsonLines)) {
      (command.ownsStdout ? io.stderr : io.stdout)(`${redactor.redact(values.json ? JSON.stringify({ ...result, config: settings.configFile ?? null }, null, 2) : command.render(result))}\n`);
    }
    return result.exitCode;
  } catch (error) {
    const message = redactor.redact(withHint(errorMessage(error), hintOf(error), 'cli'));
    io.stderr(`backup-manager: ${message}\n`);
    if (json) io.stdout(`${JSON.stringify({ command: commandName, ok: false, error: message, exitCode: exitCodeOf(error), outcomes: [], failed: [] }, null, 2)}\n`);
    return exitCodeOf(error);
  } finally {
    progressLine?.clear();
  }
}

const isEntryPoint = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('backup-manager') || process.argv[1]?.endsWith('backup-manager.mjs');
if (isEntryPoint) {
  // Said on a line of its own: the progress line (or the terminal's ^C) may stand on the current one.
  const freshLine = () => (process.stderr.isTTY ? '\r\x1b[K' : '');
  const signal = stopOnSignals({
    // Said on the spot, and redacted: the step being stopped may name a URL.
    stopping: (sig) => process.stderr.write(`${freshLine()}backup-manager: ${sig}: ${redactEverySecret(describeStop())} (again to stop at once)\n`),
    leaving: (sig) => process.stderr.write(`${freshLine()}backup-manager: stopped at once on a second ${sig}; the next run finishes the cleanup\n`),
  });
  const terminal = process.stderr.isTTY ? { columns: () => process.stderr.columns || 80 } : undefined;
  main(process.argv.slice(2), { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), ...(terminal ? { terminal } : {}) }, process.env, signal).then(
    (code) => {
      process.exitCode = signal.aborted && code !== ExitCode.OK ? ExitCode.INTERRUPTED : code;
    },
    (error: unknown) => {
      process.stderr.write(`backup-manager: ${redactEverySecret(errorMessage(error))}\n`);
      process.exitCode = signal.aborted ? ExitCode.INTERRUPTED : ExitCode.FAILURE;
    },
  );
}
