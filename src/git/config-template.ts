// Repository config is ours: the mirror, every snapshot and every restored repository get a config file rendered
// here, never one copied from elsewhere, and a config we did not write is read as data (never by git, includes never
// followed) and judged against the keys we write (docs/OPERATIONS.md, "What git is allowed to read"). Pure.
import { validateRemoteUrl } from './url.ts';

/** One `key = value` line; keys are `section.name` or `section.subsection.name`, section and name lower-case. */
export type ConfigEntry = readonly [key: string, value: string];

// Settings every repository of ours carries: nothing rewrites or maintains it behind a snapshot's back
// (docs/ARCHITECTURE.md), and a URL carrying a password makes git stop rather than store or send it.
function common(options: { bare: boolean; reflogs: boolean }): ConfigEntry[] {
  return [
    ['core.repositoryformatversion', '0'],
    ['core.filemode', 'true'],
    ['core.bare', String(options.bare)],
    ['core.logallrefupdates', String(options.reflogs)],
    ['gc.auto', '0'],
    ['maintenance.auto', 'false'],
    ['transfer.credentialsinurl', 'die'],
  ];
}

/** The live mirror under immutable/: fetches every ref (pull refs only when asked) with prune. */
export function mirrorConfig(options: { url: string; includePullRefs: boolean }): ConfigEntry[] {
  const url = validateRemoteUrl(options.url).url;
  return [
    ...common({ bare: true, reflogs: false }),
    ['remote.origin.url', url],
    ['remote.origin.fetch', '+refs/*:refs/*'],
    ...(options.includePullRefs ? [] : ([['remote.origin.fetch', '^refs/pull/*']] as ConfigEntry[])),
    ['remote.origin.mirror', 'true'],
    ['fetch.writecommitgraph', 'false'],
    // Every fetch keeps its objects as one pack: a snapshot hard-links one file instead of recreating objects/??/.
    ['fetch.unpacklimit', '1'],
  ];
}

/**
 * A snapshot, and the scratch repositories git reads a snapshot through: a bare repository with no remote, so
 * `git clone <snapshot>` works and nothing in it can be fetched into or pushed from by accident.
 */
export function snapshotConfig(): ConfigEntry[] {
  return common({ bare: true, reflogs: false });
}

/**
 * A restored copy (restore --to): no remote at all, so neither `git push` nor `git push --mirror` can reach the
 * original by accident; whoever means to push adds a remote (docs/RESTORE_RUNBOOK.md).
 */
export function restoredConfig(options: { bare: boolean }): ConfigEntry[] {
  return common({ bare: options.bare, reflogs: !options.bare });
}

/**
 * What `git lfs fetch` runs with (as `-c` settings, which outrank a `.lfsconfig` in the repository: git-lfs reads
 * `.lfsconfig` first and git's config last, docs/man/git-lfs-config.adoc "LFSCONFIG"). The endpoint is ours, so
 * the repository cannot send the fetch (and the token) elsewhere; no include or exclude filter from the repository
 * narrows what is kept, and a download error is an error.
 */
export function lfsFetchConfig(endpoint: string): ConfigEntry[] {
  return [
    ['lfs.url', endpoint],
    ['lfs.fetchinclude', ''],
    ['lfs.fetchexclude', ''],
    ['lfs.skipdownloaderrors', 'false'],
  ];
}

// ---- rendering ---------------------------------------------------------------------------------------------

function splitKey(key: string): { section: string; subsection: string | null; name: string } {
  const first = key.indexOf('.');
  const last = key.lastIndexOf('.');
  if (first <= 0 || last === key.length - 1) throw new Error(`config key ${JSON.stringify(key)} is not section[.subsection].name`);
  return { section: key.slice(0, first), subsection: first === last ? null : key.slice(first + 1, last), name: key.slice(last + 1) };
}

function quoteValue(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(value)) throw new Error('config values we write never contain control characters');
  const escaped = value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  return /^\s|\s$|[#;]/.test(value) || escaped !== value ? `"${escaped}"` : value;
}

/** The file text for these entries, grouped into sections in first-seen order (what `git config` would write). */
export function renderConfig(entries: readonly ConfigEntry[]): string {
  const sections = new Map<string, string[]>();
  for (const [key, value] of entries) {
    const { section, subsection, name } = splitKey(key);
    const header = subsection === null ? `[${section}]` : `[${section} "${subsection.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"]`;
    const lines = sections.get(header) ?? [];
    lines.push(`\t${name} = ${quoteValue(value)}`);
    sections.set(header, lines);
  }
  return [...sections].map(([header, lines]) => `${header}\n${lines.join('\n')}\n`).join('');
}

// ---- reading a config we did not write ---------------------------------------------------------------------

export class ConfigSyntaxError extends Error {}

const NAME = /^[A-Za-z][A-Za-z0-9-]*$/;

/** Read the value part of a `key = value` line: quotes, escapes and inline comments as git reads them. */
function parseValue(raw: string, lineNo: number): string {
  let out = '';
  let pendingSpace = '';
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (!quoted && (c === '#' || c === ';')) break;
    if (!quoted && (c === ' ' || c === '\t')) {
      if (out !== '') pendingSpace += c;
      continue;
    }
    out += pendingSpace;
    pendingSpace = '';
    if (c === '"') {
      quoted = !quoted;
      continue;
    }
    if (c === '\\') {
      const next = raw[++i];
      // A backslash at the end continues the value on the next line: git allows it, we never write it.
      if (next === undefined) throw new ConfigSyntaxError(`line ${lineNo}: a value continued on the next line`);
      const escapes: Record<string, string> = { n: '\n', t: '\t', b: '\b', '\\': '\\', '"': '"' };
      if (!(next in escapes)) throw new ConfigSyntaxError(`line ${lineNo}: unknown escape \\${next}`);
      out += escapes[next];
      continue;
    }
    out += c;
  }
  if (quoted) throw new ConfigSyntaxError(`line ${lineNo}: unterminated quote`);
  return out;
}

/**
 * The entries of a config file, read as data. Anything git would accept but we would never write (continued
 * lines, odd section headers) is a ConfigSyntaxError: such a file is not ours. A key with no `=` is a boolean true.
 */
export function parseConfig(text: string): ConfigEntry[] {
  const entries: ConfigEntry[] = [];
  let prefix: string | null = null;
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  for (const [index, rawLine] of lines.entries()) {
    const lineNo = index + 1;
    const line = rawLine.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      const header = /^\[\s*([A-Za-z0-9.-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]\s*(?:[#;].*)?$/.exec(line);
      if (!header) throw new ConfigSyntaxError(`line ${lineNo}: unreadable section header`);
      const [, section = '', sub] = header;
      if (sub !== undefined) {
        if (!NAME.test(section)) throw new ConfigSyntaxError(`line ${lineNo}: unreadable section name`);
        prefix = `${section.toLowerCase()}.${sub.replace(/\\(.)/g, '$1')}`;
      } else {
        // [section.sub] is git's old spelling of [section "sub"], with the subsection lower-cased.
        const dot = section.indexOf('.');
        const name = dot < 0 ? section : section.slice(0, dot);
        if (!NAME.test(name) || (dot >= 0 && section.length === dot + 1)) throw new ConfigSyntaxError(`line ${lineNo}: unreadable section name`);
        prefix = section.toLowerCase();
      }
      continue;
    }
    if (prefix === null) throw new ConfigSyntaxError(`line ${lineNo}: a setting outside any section`);
    const eq = line.indexOf('=');
    const name = (eq < 0 ? line.replace(/\s*[#;].*$/, '') : line.slice(0, eq)).trim();
    if (!NAME.test(name)) throw new ConfigSyntaxError(`line ${lineNo}: unreadable setting name`);
    entries.push([`${prefix}.${name.toLowerCase()}`, eq < 0 ? 'true' : parseValue(line.slice(eq + 1), lineNo)]);
  }
  return entries;
}

const BOOLEAN = /^(true|false|yes|no|on|off|1|0|)$/i;
const isFalse = (v: string) => /^(false|no|off|0|)$/i.test(v);
const validUrl = (v: string) => {
  try {
    validateRemoteUrl(v);
    return true;
  } catch {
    return false;
  }
};

/**
 * What a config of ours may hold: every key the templates above write, with the values they write, plus what
 * `git init` and the `git config` calls of earlier versions wrote into mirrors (and so into their snapshots).
 */
const ALLOWED: Record<string, (value: string) => boolean> = {
  'core.repositoryformatversion': (v) => v === '0',
  'core.filemode': (v) => BOOLEAN.test(v),
  'core.bare': (v) => BOOLEAN.test(v),
  'core.logallrefupdates': (v) => BOOLEAN.test(v),
  // Written by git init on case-insensitive or decomposing filesystems (macOS).
  'core.ignorecase': (v) => BOOLEAN.test(v),
  'core.precomposeunicode': (v) => BOOLEAN.test(v),
  'gc.auto': (v) => v === '0',
  'maintenance.auto': isFalse,
  'transfer.credentialsinurl': (v) => v === 'die',
  'remote.origin.url': validUrl,
  'remote.origin.fetch': (v) => v === '+refs/*:refs/*' || v === '^refs/pull/*',
  'remote.origin.mirror': (v) => BOOLEAN.test(v),
  'fetch.writecommitgraph': isFalse,
  'fetch.unpacklimit': (v) => v === '1',
};

/**
 * Why `text` is not a config of ours: each key we never write or value we never set, named. Empty when it is.
 * Values are not echoed (a planted value could be long or carry a secret); keys are what the reader needs.
 */
export function foreignConfigEntries(text: string): string[] {
  let entries: ConfigEntry[];
  try {
    entries = parseConfig(text);
  } catch (error) {
    return [`not a config this tool writes: ${(error as Error).message}`];
  }
  const problems: string[] = [];
  for (const [key, value] of entries) {
    const allowed = ALLOWED[key];
    // A subsection may hold any byte: shown JSON-quoted so it cannot reach a terminal raw.
    const shown = /^[\x21-\x7e]+$/.test(key) ? key : JSON.stringify(key);
    if (!allowed) problems.push(`${shown}: a setting this tool never writes`);
    else if (!allowed(value)) problems.push(`${shown}: a value this tool never writes`);
  }
  return problems;
}
