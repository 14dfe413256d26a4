// repository.json (docs/METADATA_FORMAT.md "How it is captured"): the repository's own record, and branch protection
// where the token can read it. A day with nothing new costs one 304 for the record (none in a sync, whose identity
// lookup has just read it: src/engine/repository-answer.ts), and, for a token that can read protection, one 304 for
// the protected-branch list and one per protected branch: GitHub has no cheaper signal (the list's `protection`
// summary leaves out most rules, and no timestamp says when a rule changed).
//
// GitHub answers branch protection to repository admins only (403 or 404 otherwise). When it was refused and the
// repository's record says the token's user is no admin (`permissions.admin`, in the record itself, so a change of
// access changes the record's ETag too), it is not asked again each day: only once that record says otherwise, or a
// week later (a GitHub App's own permissions are not in the record).
import type { PageMark, Refusal } from './capture-state.ts';
import { failed } from './collect-records.ts';
import { classifyFailure } from './failure.ts';
import { metadataPaths, type RepositorySettings } from './format.ts';
import { isHttpError } from '../github/api-errors.ts';
import type { CollectContext, KindResult } from './kind.ts';
import { normalizeSettings, type ApiRepository } from './normalize.ts';
import { getConditional, readList, requestKey, type PageAnswer } from './requests.ts';

/** A refusal is trusted this long before protection is asked again anyway. */
const REFUSAL_TRUSTED_MS = 7 * 86_400_000;
const PROTECTION = 'branch protection';

type Skipped = Array<{ what: string; reason: string }>;

interface ProtectionRead {
  /** The rules by branch, when read (or kept, for the branches whose rules answered 304). */
  rules?: Record<string, unknown>;
  changed: boolean;
  skipped?: string;
  refusal?: Refusal | null;
  stop?: KindResult;
}

export async function collectSettings(ctx: CollectContext, kept: RepositorySettings | undefined): Promise<KindResult> {
  const pages: Record<string, PageMark> = {};
  const conditional = async <T>(path: string, query: Record<string, string | number> = {}): Promise<PageAnswer<T>> => {
    const key = requestKey(path, query);
    const answer = await getConditional<T>(ctx.client, key, ctx.state.pages[key]?.etag);
    if (answer.notModified) pages[key] = ctx.state.pages[key]!;
    else if (answer.etag) pages[key] = { etag: answer.etag, hasNext: false };
    return answer;
  };
  const recordKey = requestKey(ctx.repoPath, {});
  let repository: PageAnswer<ApiRepository>;
  try {
    repository = alreadyAnswered(ctx, recordKey, pages) ?? (await conditional<ApiRepository>(ctx.repoPath));
  } catch (error) {
    return failed(ctx, error, 'repository settings');
  }
  if (!repository.notModified && pages[recordKey]) pages[recordKey] = { ...pages[recordKey], ...recordFacts(repository.data) };
  // What the record says of the token's user: from this answer, or from the one whose ETag matched.
  const admin = repository.notModified ? pages[recordKey]?.admin : recordFacts(repository.data).admin;
  // And of the wiki (kept for the wiki's sync, src/engine/wiki.ts): likewise, or from the kept record a 304 stands for.
  let wiki = repository.notModified ? (kept ? { hasWiki: kept.hasWiki } : {}) : wikiFact(repository.data);

  const protection = await readProtection(ctx, kept, admin, conditional, pages);
  if (protection.stop) return { ...protection.stop, ...wiki };
  const skipped: Skipped = protection.skipped ? [{ what: PROTECTION, reason: protection.skipped }] : [];
  const marks = { pages, ...(protection.refusal !== undefined ? { protectionRefused: protection.refusal } : {}), ...(skipped.length ? { skipped } : {}) };
  const rules = protection.changed ? protection.rules : kept?.branchProtection;
  if (repository.notModified && kept && !protection.changed) return { state: 'complete', documents: new Map(), ...marks, ...wiki };
  // A 304 on the repository keeps the kept record's fields; only the protection rules were read again.
  let settings: RepositorySettings;
  if (!repository.notModified) settings = normalizeSettings(repository.data, rules);
  else if (kept) settings = { ...kept, ...(rules ? { branchProtection: rules } : {}) };
  else {
    // The ETag is kept but the document is not (a lost tree): ask again without it, unless this run has the answer.
    const answer = ctx.repositoryAnswer;
    const fresh: PageAnswer<ApiRepository> =
      answer && 'data' in answer ? { notModified: false, data: answer.data as ApiRepository, etag: answer.etag, hasNext: false } : await getConditional<ApiRepository>(ctx.client, ctx.repoPath);
    if (fresh.notModified) return { state: 'failed', reason: 'repository settings: answered 304 to an unconditional request', documents: new Map() };
    settings = normalizeSettings(fresh.data, rules);
    wiki = wikiFact(fresh.data);
  }
  return { state: 'complete', documents: new Map([[metadataPaths.repository, settings]]), ...marks, ...wiki };
}

/**
 * The record as this run's identity lookup got it: the same as a 304 when its ETag is the one kept, an answer like
 * any other otherwise; null (ask) without one, or for a 304 to an ETag these marks do not hold (marks set aside).
 */
function alreadyAnswered(ctx: CollectContext, key: string, pages: Record<string, PageMark>): PageAnswer<ApiRepository> | null {
  const answer = ctx.repositoryAnswer;
  if (!answer) return null;
  const kept = ctx.state.pages[key];
  if (answer.etag && kept?.etag === answer.etag) {
    // A mark written before it kept the record's facts gains them here (else the lookup would never be conditional).
    pages[key] = 'data' in answer ? { ...kept, ...recordFacts(answer.data) } : kept;
    return { notModified: true };
  }
  if (!('data' in answer)) return null;
  if (answer.etag) pages[key] = { etag: answer.etag, hasNext: false };
  return { notModified: false, data: answer.data as ApiRepository, etag: answer.etag, hasNext: false };
}

/** What the mark of the record keeps of it: the token's user's admin flag, the id and the full name. */
function recordFacts(data: unknown): Pick<PageMark, 'admin' | 'id' | 'fullName'> {
  const record = (typeof data === 'object' && data !== null ? data : {}) as { permissions?: { admin?: unknown }; id?: unknown; full_name?: unknown };
  return {
    ...(typeof record.permissions?.admin === 'boolean' ? { admin: record.permissions.admin } : {}),
    ...(typeof record.id === 'number' && Number.isInteger(record.id) && record.id > 0 ? { id: record.id } : {}),
    ...(typeof record.full_name === 'string' ? { fullName: record.full_name } : {}),
  };
}

/** The record's `has_wiki` when it has one (an answer without it says nothing, so the wiki is asked for as before). */
function wikiFact(data: unknown): { hasWiki?: boolean } {
  const record = (typeof data === 'object' && data !== null ? data : {}) as { has_wiki?: unknown };
  return typeof record.has_wiki === 'boolean' ? { hasWiki: record.has_wiki } : {};
}

/**
 * The protected branches (`GET /branches?protected=true`) and each one's rules, every request conditional; or
 * nothing asked, when an earlier refusal still stands (see above).
 */
async function readProtection(
  ctx: CollectContext,
  kept: RepositorySettings | undefined,
  admin: boolean | undefined,
  conditional: <T>(path: string) => Promise<PageAnswer<T>>,
  pages: Record<string, PageMark>,
): Promise<ProtectionRead> {
  const refused = ctx.state.protectionRefused;
  if (refused && admin === false && Date.parse(ctx.capturedAt) - Date.parse(refused.at) < REFUSAL_TRUSTED_MS) {
    return { changed: false, skipped: refused.reason };
  }
  try {
    const branches = await readList<{ name: string }>(ctx.client, `${ctx.repoPath}/branches`, { protected: 'true' }, ctx.state.pages);
    Object.assign(pages, branches.pages);
    const rules: Record<string, unknown> = {};
    let changed = !branches.unchanged || !kept?.branchProtection;
    const names = branches.unchanged ? Object.keys(kept?.branchProtection ?? {}) : branches.items.map((b) => b.name);
    for (const name of names.sort()) {
      const answer = await conditional<unknown>(`${ctx.repoPath}/branches/${encodeURIComponent(name)}/protection`);
      if (answer.notModified) rules[name] = kept?.branchProtection?.[name];
      else {
        rules[name] = answer.data;
        changed = true;
      }
    }
    return { rules, changed, refusal: null };
  } catch (error) {
    const failure = classifyFailure(error, PROTECTION, ctx.signal);
    if (failure.stopsRepository) return { changed: false, stop: { state: 'partial', reason: failure.reason, documents: new Map(), stopsRepository: true } };
    // Kept as refused only when the record explains it; the same words every day, so a quiet day changes nothing.
    const refusedHere = admin === false && isHttpError(error) && (error.status === 403 || error.status === 404);
    if (!refusedHere) return { changed: false, skipped: failure.reason, refusal: null };
    const reason = `${failure.reason}; the token's user is not an admin of the repository, which GitHub requires: asked again when that changes, or in a week`;
    return { changed: false, skipped: reason, refusal: { at: ctx.capturedAt, reason } };
  }
}
