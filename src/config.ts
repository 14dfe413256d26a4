// Configuration: the file (YAML or JSON, validated with zod), environment overrides, and command-line picks,
// resolved into one BackupSettings. Pure apart from reading the file.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument, LineCounter, isMap, isSeq, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { UsageError } from './errors.ts';
import { isValidOwner, isValidRepoName } from './naming.ts';
import { pickConfigured } from './targets.ts';
import { metadataSwitchesSchema } from './capture-switches.ts';
import type { Shard } from './shard.ts';
import { envGitHubApp, type GitHubAppSettings } from './github/app-settings.ts';

const positiveInt = z.number().int().positive();

/** A URL (https, ssh, scp-like, file) or an explicit local path: anything else must be owner/name. */
const URL_OR_PATH = /^([a-z][a-z0-9+.-]*:\/\/|[^/\s]+@[^:\s]+:|\/|\.{1,2}\/|~\/)/i;

/** What a string entry must be; a bare word such as "acme" would otherwise become a local path by accident. */
function checkRepoString(value: string, ctx: z.RefinementCtx): void {
  const spec = value.trim();
  if (URL_OR_PATH.test(spec)) return;
  const parts = spec.replace(/\.git$/, '').split('/');
  if (parts.length !== 2) {
    ctx.addIssue({
      code: 'custom',
      message: `${JSON.stringify(spec)} is not owner/name, a URL or a path (write a local path as ./${spec} or /abs/path; a whole owner as { owner: ${spec} })`,
    });
    return;
  }
  const [owner = '', name = ''] = parts;
  if (!isValidOwner(owner)) ctx.addIssue({ code: 'custom', message: `invalid repository owner ${JSON.stringify(owner)} in ${JSON.stringify(spec)}` });
  else if (!isValidRepoName(name)) ctx.addIssue({ code: 'custom', message: `invalid repository name ${JSON.stringify(name)} in ${JSON.stringify(spec)}` });
}

const repoEntry = z.union([
  z.string().min(1).superRefine(checkRepoString),
  z.object({ repo: z.string().min(1).superRefine(checkRepoString), url: z.string().min(1).optional(), metadata: metadataSwitchesSchema.optional() }).strict(),
  z
    .object({
      owner: z.string().min(1),
      type: z.enum(['org', 'user', 'auto']).default('auto'),
      includeArchived: z.boolean().default(false),
      includeForks: z.boolean().default(false),
      exclude: z.array(z.string()).default([]),
      metadata: metadataSwitchesSchema.optional(),
    })
    .strict(),
]);

const nonNegativeInt = z.number().int().nonnegative();

/** The off-site store (docs/STORE_FORMAT.md). Credentials never come from here: the AWS chain supplies them. */
export const storeConfigSchema = z
  .object({
    /** s3://BUCKET/PREFIX, or file:///ABSOLUTE/DIR for a local-directory store (a NAS mount, tests). */
    url: z.string().regex(/^(s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?|file:\/\/\/.+)$/, 'expected s3://BUCKET/PREFIX or file:///DIR'),
    endpoint: z.url().optional(),
    region: z.string().min(1).optional(),
    forcePathStyle: z.boolean().optional(),
    objectLock: z.object({ mode: z.enum(['GOVERNANCE', 'COMPLIANCE']), days: positiveInt }).strict().optional(),
    encryption: z.object({ recipients: z.array(z.string().regex(/^age1[0-9a-z]{58}$/, 'expected an age X25519 public key (age1...)')).min(1) }).strict().optional(),
    /** restic-style policy for the store; unset fields fall back to the local retentionDays/keepMin. */
    retention: z
      .object({ days: positiveInt.optional(), weekly: nonNegativeInt.optional(), monthly: nonNegativeInt.optional(), yearly: nonNegativeInt.optional() })
      .strict()
      .optional(),
  })
  .strict();

export type StoreConfig = z.infer<typeof storeConfigSchema>;

export const configFileSchema = z
  .object({
    root: z.string().min(1).optional(),
    repositories: z.array(repoEntry).default([]),
    retentionDays: positiveInt.optional(),
    keepMin: z.number().int().nonnegative().optional(),
    concurrency: positiveInt.max(32).optional(),
    token: z.string().min(1).optional(),
    apiUrl: z.url().optional(),
    includePullRefs: z.boolean().optional(),
    schedule: z.string().min(1).optional(),
    store: storeConfigSchema.optional(),
  })
  .strict();

export type ConfigFile = z.infer<typeof configFileSchema>;
export type RepoEntry = z.infer<typeof repoEntry>;

/** Everything a command needs to know, wherever it came from (file, environment, flags, action inputs). */
export interface BackupSettings {
  /** Backup root: immutable/, snapshots/, archives/, logs/, state/ live under it. */
  root: string;
  /** Repositories and owners to back up; owners are expanded through the GitHub API. */
  repositories: RepoEntry[];
  /** Secret: reaches git per invocation and the API client only. */
  token?: string;
  retentionDays: number;
  keepMin: number;
  concurrency: number;
  /** GitHub REST API base URL (GitHub Enterprise or a test stand-in). */
  apiUrl: string;
  /** Keep GitHub's hidden refs/pull/* in mirrors and snapshots. */
  includePullRefs: boolean;
  /** Cron schedule for the daemon (UTC). */
  schedule: string;
  /** The off-site store, when configured. */
  store?: StoreConfig;
  /** The config file that was read (absolute), or null when none was. */
  configFile?: string | null;
  /** --shard K/N: work on that slice of the repositories only (src/shard.ts). */
  shard?: Shard;
  /** Secret key inside: GitHub App credentials; when set, installation tokens replace `token` (src/github/app-auth.ts). */
  githubApp?: GitHubAppSettings;
}

export const DEFAULTS = {
  root: '/backup',
  retentionDays: 30,
  keepMin: 7,
  concurrency: 4,
  apiUrl: 'https://api.github.com',
  includePullRefs: false,
  schedule: '0 2 * * *',
} as const;

type Issue = z.core.$ZodIssue;

/**
 * A union's own message is a bare "Invalid input". Report the issues of the branch the entry came closest to (the
 * fewest issues among branches of the right type), with their full paths, so the error says what is wrong.
 */
function closestBranch(issue: Issue): Issue[] {
  if (issue.code !== 'invalid_union') return [issue];
  const candidates = issue.errors.filter((branch) => !branch.every((i) => i.code === 'invalid_type' && i.path.length === 0));
  if (candidates.length === 0) return [{ ...issue, message: 'expected "owner/name", a URL or path, {repo, url} or {owner, ...}' }];
  const best = candidates.reduce((a, b) => (b.length < a.length ? b : a));
  return best.flatMap((i) => closestBranch({ ...i, path: [...issue.path, ...i.path] } as Issue));
}

/** Parse and validate config text; errors name the field and, for YAML, the line. */
export function parseConfig(text: string, source: string): ConfigFile {
  const isJson = source.endsWith('.json');
  let data: unknown;
  let lineOf: (path: PropertyKey[]) => number | undefined = () => undefined;
  if (isJson) {
    if (text.trim() === '') throw new UsageError(`${source}: the configuration file is empty (see backup.config.yml in the README for an example)`);
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw new UsageError(`${source}: invalid JSON: ${(error as Error).message}`);
    }
  } else {
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter, prettyErrors: true });
    if (doc.errors.length > 0) {
      throw new UsageError(`${source}: invalid YAML: ${doc.errors[0]!.message}`);
    }
    data = doc.toJS();
    if (data === null || data === undefined) throw new UsageError(`${source}: the configuration file is empty (see backup.config.yml in the README for an example)`);
    lineOf = (path) => {
      let node: unknown = doc.contents;
      let found: YamlNode | undefined;
      for (const key of path) {
        if (isMap(node) || isSeq(node)) {
          node = (node as { get(k: unknown, keep: true): unknown }).get(key, true);
          if (node && typeof node === 'object' && 'range' in node) found = node as YamlNode;
        } else break;
      }
      const offset = found?.range?.[0];
      return offset === undefined ? undefined : lineCounter.linePos(offset).line;
    };
  }
  const parsed = configFileSchema.safeParse(data);
  if (!parsed.success) {
    const messages = parsed.error.issues.flatMap(closestBranch).flatMap((issue) => {
      // zod reports unknown keys on their parent object: point at each key itself, with its own line.
      const paths = issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...issue.path, key]) : [issue.path];
      return paths.map((path) => {
        const field = path.length ? path.join('.') : '(top level)';
        const line = lineOf(path);
        const what = issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message;
        return `${source}${line ? `:${line}` : ''}: ${field}: ${what}`;
      });
    });
    throw new UsageError(`invalid configuration\n  ${messages.join('\n  ')}`);
  }
  return parsed.data;
}

export function loadConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  return parseConfig(text, path);
}

/** Found in the working directory when neither --config nor BACKUP_CONFIG names a file. */
export const DEFAULT_CONFIG_FILE = 'backup.config.yml';

/** The config file a run reads: the flag, then BACKUP_CONFIG, then ./backup.config.yml if it exists; or none. */
export function configFileFor(overridePath: string | undefined, env: NodeJS.ProcessEnv, cwd: string = process.cwd()): string | undefined {
  const named = overridePath ?? (env.BACKUP_CONFIG || undefined);
  if (named) return resolve(named);
  const discovered = resolve(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(discovered) ? discovered : undefined;
}

export interface SettingsOverrides {
  root?: string;
  configPath?: string;
  repositories?: string[];
  token?: string;
  retentionDays?: number;
  keepMin?: number;
  concurrency?: number;
  shard?: Shard;
  githubApp?: GitHubAppSettings;
}

function envInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new UsageError(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

/** GITHUB_TOKEN, or a file named by GITHUB_TOKEN_FILE (a Docker secret): read into memory, never copied. */
function envToken(env: NodeJS.ProcessEnv): string | undefined {
  if (env.GITHUB_TOKEN) return env.GITHUB_TOKEN;
  const path = env.GITHUB_TOKEN_FILE;
  if (!path) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read GITHUB_TOKEN_FILE ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  const token = text.trim();
  if (!token) throw new UsageError(`GITHUB_TOKEN_FILE ${path} is empty`);
  return token;
}

/**
 * Precedence, highest first: explicit overrides (flags, action inputs), environment, config file, defaults.
 * `--repo` picks replace the configured list: they say which repositories this run works on; a pick naming a
 * configured entry is that entry, with its `url:`.
 */
export function resolveSettings(overrides: SettingsOverrides, env: NodeJS.ProcessEnv = process.env): BackupSettings {
  const configPath = configFileFor(overrides.configPath, env);
  const file: ConfigFile = configPath ? loadConfigFile(configPath) : { repositories: [] };
  const repositories = overrides.repositories?.length ? pickConfigured(overrides.repositories, file.repositories) : file.repositories;
  return {
    root: resolve(overrides.root ?? env.BACKUP_ROOT ?? file.root ?? DEFAULTS.root),
    repositories,
    token: overrides.token ?? envToken(env) ?? file.token,
    retentionDays: overrides.retentionDays ?? envInt(env, 'BACKUP_RETENTION_DAYS') ?? file.retentionDays ?? DEFAULTS.retentionDays,
    keepMin: overrides.keepMin ?? file.keepMin ?? DEFAULTS.keepMin,
    concurrency: overrides.concurrency ?? file.concurrency ?? DEFAULTS.concurrency,
    apiUrl: env.GITHUB_API_URL || file.apiUrl || DEFAULTS.apiUrl,
    includePullRefs: file.includePullRefs ?? DEFAULTS.includePullRefs,
    schedule: env.BACKUP_SCHEDULE || file.schedule || DEFAULTS.schedule,
    ...(file.store ? { store: file.store } : {}),
    configFile: configPath ?? null,
    ...(overrides.shard ? { shard: overrides.shard } : {}),
    ...withGitHubApp(overrides.githubApp ?? envGitHubApp(env)),
  };
}

const withGitHubApp = (app: GitHubAppSettings | undefined) => (app ? { githubApp: app } : {});
