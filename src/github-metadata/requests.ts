// Conditional, paginated reads of the GitHub API (docs/METADATA_FORMAT.md "Where it lives"): every page asked with
// the ETag of its last answer, so an unchanged list costs a 304 (which costs no rate limit), and incremental streams
// read with `since`, so a changed one costs only what changed. Octokit reports a 304 as a RequestError: it is an
// answer here, not an error.
import type { GitHubClient } from '../github/client.ts';
import { isHttpError } from '../github/api-errors.ts';
import type { PageMark, StreamMark } from './capture-state.ts';

export const PER_PAGE = 100;
/** A list longer than this many pages is damage or a loop, not a repository. */
const MAX_PAGES = 100_000;

export type Query = Record<string, string | number>;

/** `/repos/<owner>/<name>`: the repository's record, and the prefix of every request about it. */
export function repositoryPath(owner: string, name: string): string {
  return `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;
}

/** `/repos/o/r/issues?page=1&per_page=100&state=all`: the request, and the key its ETag is kept under. */
export function requestKey(path: string, query: Query): string {
  const params = new URLSearchParams(Object.entries(query).map(([k, v]) => [k, String(v)]));
  params.sort();
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

export type PageAnswer<T> = { notModified: true } | { notModified: false; data: T; etag: string | undefined; hasNext: boolean };

function header(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  const value = headers?.[name];
  return typeof value === 'string' ? value : undefined;
}

/** A page of a list must be a list: anything else is an error that names the request, never a crash later. */
function asList<T>(data: unknown, key: string): T[] {
  if (!Array.isArray(data)) throw new Error(`GitHub answered ${key.split('?')[0]} with something that is not a list`);
  return data as T[];
}

/**
 * The body of an answer, parsed with JSON.parse. Octokit's own parse goes through a reviver that keeps integers past
 * 2^53 as BigInt: several times slower on a page of 100 issues, and a BigInt could not be written into a document
 * anyway (docs/BENCHMARKS.md "GitHub metadata capture").
 */
async function jsonBody(body: unknown, key: string): Promise<unknown> {
  const text = body == null ? '' : await new Response(body as ConstructorParameters<typeof Response>[0]).text();
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    throw new Error(`GitHub answered ${key.split('?')[0]} with something that is not JSON`);
  }
}

/** One GET, conditional when `etag` is given. Errors other than 304 are thrown as Octokit gives them. */
export async function getConditional<T>(client: GitHubClient, key: string, etag?: string): Promise<PageAnswer<T>> {
  try {
    const response = await client.request(`GET ${key}`, { ...(etag ? { headers: { 'if-none-match': etag } } : {}), request: { parseSuccessResponseBody: false } });
    const headers = response.headers as Record<string, unknown>;
    return { notModified: false, data: (await jsonBody(response.data, key)) as T, etag: header(headers, 'etag'), hasNext: /rel="next"/.test(header(headers, 'link') ?? '') };
  } catch (error) {
    if (isHttpError(error) && error.status === 304) return { notModified: true };
    throw error;
  }
}

export interface ListRead<T> {
  /** Every page answered 304: nothing changed since the last read. */
  unchanged: boolean;
  /** The items of the pages that changed; with `whole`, of every page once any changed. */
  items: T[];
  /** The marks to keep for the pages this read visited. */
  pages: Record<string, PageMark>;
}

/**
 * Every page of a list, each asked with its own ETag. An unchanged page keeps its records; `whole` lists (one
 * document of them all, like labels.json) read the unchanged pages again once any page changed.
 */
export async function readList<T>(client: GitHubClient, path: string, query: Query, marks: Record<string, PageMark>, options: { whole?: boolean } = {}): Promise<ListRead<T>> {
  const byPage: Array<{ key: string; items: T[] | null }> = [];
  const pages: Record<string, PageMark> = {};
  for (let page = 1, more = true; more && page <= MAX_PAGES; page++) {
    const key = requestKey(path, { ...query, per_page: PER_PAGE, page });
    const mark = marks[key];
    const answer = await getConditional<T[]>(client, key, mark?.etag);
    if (answer.notModified) {
      pages[key] = mark!;
      more = mark!.hasNext;
      byPage.push({ key, items: null });
    } else {
      if (answer.etag) pages[key] = { etag: answer.etag, hasNext: answer.hasNext };
      more = answer.hasNext && answer.data.length > 0;
      byPage.push({ key, items: asList<T>(answer.data, key) });
    }
  }
  const unchanged = byPage.every((p) => p.items === null);
  if (options.whole && !unchanged) {
    for (const entry of byPage.filter((p) => p.items === null)) {
      const answer = await getConditional<T[]>(client, entry.key);
      if (!answer.notModified) entry.items = asList<T>(answer.data, entry.key);
    }
  }
  return { unchanged, items: byPage.flatMap((p) => p.items ?? []), pages };
}

export interface StreamRead<T> {
  items: T[];
  /** Where the next read starts: the newest updated_at read, with the ETag of that request when it was made. */
  mark: StreamMark;
  /** The read stopped here (rate limit, an error): `items` and `mark` hold what was read before it. */
  error?: unknown;
}

const newestUpdate = (items: Array<{ updated_at?: string }>, since: string | undefined): string | undefined =>
  items.reduce<string | undefined>((max, item) => (item.updated_at && (!max || item.updated_at > max) ? item.updated_at : max), since);

/**
 * An incremental stream (`since=`, oldest change first): everything updated since the mark. When something changed,
 * the stream is asked once more from the new mark, so the ETag kept is the one the next run's request will carry
 * and a day with nothing new answers 304. Records seen twice are given once.
 */
export async function readStream<T extends { id?: number; number?: number; updated_at?: string }>(client: GitHubClient, path: string, query: Query, mark: StreamMark): Promise<StreamRead<T>> {
  const seen = new Map<string, T>();
  let since = mark.since;
  let etag = mark.etag;
  try {
    for (let round = 0; round < 3; round++) {
      const base = { ...query, sort: 'updated', direction: 'asc', ...(since ? { since } : {}) };
      let firstEtag: string | undefined;
      const read: T[] = [];
      for (let page = 1, more = true; more && page <= MAX_PAGES; page++) {
        const key = requestKey(path, { ...base, per_page: PER_PAGE, page });
        const answer = await getConditional<T[]>(client, key, page === 1 ? etag : undefined);
        if (answer.notModified) return { items: [...seen.values()], mark: { ...(since ? { since } : {}), ...(etag ? { etag } : {}) } };
        if (page === 1) firstEtag = answer.etag;
        for (const item of asList<T>(answer.data, key)) {
          read.push(item);
          seen.set(`${item.id ?? item.number}@${item.updated_at}`, item);
        }
        more = answer.hasNext && answer.data.length > 0;
      }
      const next = newestUpdate(read, since);
      if (next === since) return { items: [...seen.values()], mark: { ...(since ? { since } : {}), ...(firstEtag ? { etag: firstEtag } : {}) } };
      since = next;
      etag = undefined;
    }
    return { items: [...seen.values()], mark: since ? { since } : {} };
  } catch (error) {
    // Oldest change first: everything up to the newest update read is in hand, so the next run resumes from there.
    const items = [...seen.values()];
    const resume = newestUpdate(items, since);
    return { items, mark: resume ? { since: resume } : {}, error };
  }
}

/**
 * A list without `since`, newest change first (/pulls?sort=updated&direction=desc): page 1 asked conditionally, then
 * pages until a record older than the mark. The mark moves only when the read finished.
 */
export async function readNewestFirst<T extends { updated_at?: string }>(client: GitHubClient, path: string, query: Query, mark: StreamMark): Promise<StreamRead<T>> {
  const items: T[] = [];
  let firstEtag: string | undefined;
  try {
    const base = { ...query, sort: 'updated', direction: 'desc' };
    for (let page = 1, more = true; more && page <= MAX_PAGES; page++) {
      const key = requestKey(path, { ...base, per_page: PER_PAGE, page });
      const answer = await getConditional<T[]>(client, key, page === 1 ? mark.etag : undefined);
      if (answer.notModified) return { items, mark };
      if (page === 1) firstEtag = answer.etag;
      for (const item of asList<T>(answer.data, key)) {
        if (mark.since && item.updated_at && item.updated_at < mark.since) {
          more = false;
          break;
        }
        items.push(item);
      }
      more = more && answer.hasNext && answer.data.length > 0;
    }
  } catch (error) {
    return { items, mark, error };
  }
  const since = newestUpdate(items, mark.since);
  return { items, mark: { ...(since ? { since } : {}), ...(firstEtag ? { etag: firstEtag } : {}) } };
}
