// Global command-line options and their translation into settings. The token is never a flag: a command line is
// visible to every user of the machine (ps); it comes from GITHUB_TOKEN or the config file only.
import { UsageError } from '../errors.ts';
import type { SettingsOverrides } from '../config.ts';
import { parseShard } from '../shard.ts';
import type { OptionSpec } from './command.ts';

export const GLOBAL_OPTIONS: OptionSpec = {
  root: { type: 'string' },
  config: { type: 'string' },
  repo: { type: 'string', multiple: true },
  concurrency: { type: 'string' },
  shard: { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
};

export const GLOBAL_HELP = `GLOBAL OPTIONS
  --root DIR         backup root (default $BACKUP_ROOT, the config's root, or /backup)
  --config FILE      configuration file, YAML or JSON (default $BACKUP_CONFIG, else ./backup.config.yml if present)
  --repo R           work on this repository only: OWNER/NAME, an https/ssh/file URL or a local path
                     (repeatable; replaces the configured list)
  --concurrency N    repositories processed at once (default 4)
  --shard K/N        only the K-th of N stable slices of the repositories (by a hash of owner/name)
  --json             print the result as JSON on stdout
  -v, --verbose      echo every log line on stderr
  -q, --quiet        no progress line on a terminal (there is none off a terminal; NO_COLOR drops its colour)
  -h, --help         this help`;

export function parsePositiveInt(raw: unknown, flag: string, options: { allowZero?: boolean } = {}): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < (options.allowZero ? 0 : 1)) {
    throw new UsageError(`${flag} must be a ${options.allowZero ? 'non-negative' : 'positive'} integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

export function overridesFrom(values: Record<string, unknown>): SettingsOverrides {
  return {
    root: values.root as string | undefined,
    configPath: values.config as string | undefined,
    repositories: values.repo as string[] | undefined,
    concurrency: parsePositiveInt(values.concurrency, '--concurrency'),
    ...(values.shard === undefined ? {} : { shard: parseShard(String(values.shard)) }),
  };
}
