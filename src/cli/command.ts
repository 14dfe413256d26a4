// The shape every CLI command file exports: its options, help, what it asks the engine, how it renders.
import type { ParseArgsConfig } from 'node:util';
import type { BackupSettings } from '../config.ts';
import type { Engine } from '../engine/api.ts';
import type { RunResult } from '../types.ts';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface CommandInput {
  engine: Engine;
  settings: BackupSettings;
  /** The environment settings were resolved from (re-read by long-running commands). */
  env: NodeJS.ProcessEnv;
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
  /** Progress lines for people (stderr); results go to stdout. */
  progress: (line: string) => void;
  /** One compact JSON line on stdout, redacted (JSON Lines, for commands that report as they go). */
  emitJsonLine: (value: unknown) => void;
}

/** `R` is the operation's result (src/operations), narrowed by `command` where one command runs several. */
export interface Command<T = unknown, R extends RunResult<T> = RunResult<T>> {
  name: string;
  summary: string;
  /** Usage line after "backup-manager". */
  usage: string;
  /** Extra help text (options specific to the command). */
  help?: string;
  options?: OptionSpec;
  /** stdout carries a protocol (mcp): the final line goes to stderr instead. */
  ownsStdout?: boolean;
  /** Most commands work on the configured repositories; a command that needs none (daemon) says so. */
  execute(input: CommandInput): Promise<R>;
  /** Under --json this command prints JSON Lines as it goes (emitJsonLine) instead of one result at the end. */
  jsonLines?: boolean;
  render(result: R): string;
}
