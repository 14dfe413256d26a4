// What `find` was asked for, and which recorded ref names match it. Pure: no git, no filesystem.
import { refKeyToBytes, type RefKey } from './refs.ts';

export type FindQuery = { kind: 'commit'; prefix: string } | { kind: 'ref'; name: string } | { kind: 'pattern'; pattern: RegExp; source: string };

const COMMIT = /^[0-9a-f]{7,64}$/i;
const MAX_QUERY = 1000;

/** A hex string of 7 or more digits is a commit; one with * ? or [ a glob over ref names; anything else a ref name. */
export function parseFindQuery(raw: string): FindQuery {
  if (!raw || raw.length > MAX_QUERY || /[\p{Cc}]/u.test(raw)) throw new Error(`find: expected a commit, a ref name or a pattern of at most ${MAX_QUERY} characters`);
  if (COMMIT.test(raw)) return { kind: 'commit', prefix: raw.toLowerCase() };
  if (/[*?[]/.test(raw)) return { kind: 'pattern', pattern: globToRegExp(raw), source: raw };
  return { kind: 'ref', name: raw };
}

/** `*` matches within one path segment, `**` across segments, `?` one character, `[...]` a class. */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      out += '.*';
      i++;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) out += '\\[';
      else {
        out += `[${glob.slice(i + 1, end).replace(/\\/g, '\\\\').replace(/^!/, '^')}]`;
        i = end;
      }
    } else out += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

const SHORT_PREFIXES = ['refs/heads/', 'refs/tags/', 'refs/notes/', 'refs/'];

/** A ref matches a name given in full (refs/heads/x) or short (x, heads/x); a pattern matches full or short names. */
export function refMatches(ref: RefKey, query: Exclude<FindQuery, { kind: 'commit' }>): boolean {
  const name = refKeyToBytes(ref).toString('utf8');
  const forms = [name, ...SHORT_PREFIXES.filter((p) => name.startsWith(p)).map((p) => name.slice(p.length))];
  return query.kind === 'ref' ? forms.includes(query.name) : forms.some((f) => query.pattern.test(f));
}

export interface RefMove {
  ref: RefKey;
  from: string;
  to: string;
}

export interface RefDiff {
  added: Array<{ ref: RefKey; to: string }>;
  deleted: Array<{ ref: RefKey; from: string }>;
  moved: RefMove[];
  forceMoved: RefMove[];
  /** Moved to a commit the repository asked does not hold (upstream ran ahead of the mirror): ancestry unknown. */
  unfetched: RefMove[];
  unchanged: number;
}

/**
 * Classify two ref maps; `fastForwarded` holds the moved refs whose new commit descends from the old one, `unknown`
 * those whose new commit could not be asked about.
 */
export function classifyRefs(
  before: Record<RefKey, string>,
  after: Record<RefKey, string>,
  fastForwarded: ReadonlySet<RefKey>,
  unknown: ReadonlySet<RefKey> = new Set(),
): RefDiff {
  const diff: RefDiff = { added: [], deleted: [], moved: [], forceMoved: [], unfetched: [], unchanged: 0 };
  for (const ref of Object.keys(after).sort()) {
    const from = before[ref];
    const to = after[ref]!;
    if (from === undefined) diff.added.push({ ref, to });
    else if (from === to) diff.unchanged++;
    else (unknown.has(ref) ? diff.unfetched : fastForwarded.has(ref) ? diff.moved : diff.forceMoved).push({ ref, from, to });
  }
  for (const ref of Object.keys(before).sort()) if (!(ref in after)) diff.deleted.push({ ref, from: before[ref]! });
  return diff;
}
