// One capture of a repository's GitHub records into its metadata repository (docs/METADATA_FORMAT.md): every kind in
// turn, each failing on its own; the documents that changed committed in one commit; then the marks the next capture
// starts from. The marks are written after the commit, so they never claim a record the tree does not hold.
import type { GitCommandManager } from '../git/git.ts';
import { createGitHubClient, type GitHubClientOptions, type GitHubToken, type WaitBudget } from '../github/client.ts';
import type { Redactor } from '../redact.ts';
import { emptyCaptureState, readCaptureState, sameCaptureState, writeCaptureState, type CaptureState } from './capture-state.ts';
import { collectCommitComments, collectLabels, collectMilestones, collectReleases } from './collect-records.ts';
import { collectSettings } from './collect-settings.ts';
import { collectConversations } from './collect-conversations.ts';
import { changedDocuments, commitDocuments } from './commit.ts';
import {
  captureDocumentSchema,
  commitCommentSchema,
  issueSchema,
  labelsDocumentSchema,
  METADATA_KINDS,
  METADATA_REPO_FORMAT,
  METADATA_REPO_VERSION,
  metadataPaths,
  milestoneSchema,
  pullSchema,
  releaseSchema,
  repositorySettingsSchema,
  serializeDocument,
  type CaptureDocument,
  type KindCapture,
  type MetadataKind,
  type RepositorySettings,
} from './format.ts';
import type { CollectContext, KindResult } from './kind.ts';
import { repositoryPath } from './requests.ts';
import { documentReader, ensureMetadataRepo, readMetadataTree } from './metadata-repo.ts';
import { switchedOffReason, type MetadataSelection } from './switches.ts';
import type { ZodType } from 'zod';

export interface CaptureOptions {
  apiUrl: string;
  /** A token, or the run's provider (a GitHub App's token is renewed during a run: src/github/credentials.ts). */
  token?: GitHubToken;
  /** Told every response's headers (the run's rate-limit pacing, src/engine/pacer.ts). */
  onResponse?: GitHubClientOptions['onResponse'];
  /** The repository on GitHub. */
  owner: string;
  name: string;
  /** Layout.metadataRepo / metadataAssets / metadataCaptureState of the target. */
  repoDir: string;
  assetsDir: string;
  stateFile: string;
  selection: MetadataSelection;
  git: GitCommandManager;
  redactor: Redactor;
  clock: () => Date;
  signal?: AbortSignal;
  /** Ends every request when it fires (the repository's deadline, src/git/deadline.ts): not a stop on request. */
  deadline?: AbortSignal;
  /** Injected for tests and proxies; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** An API request that has not answered within this long is given up (default 60). */
  requestTimeoutSeconds?: number;
  /** Seconds the API client may wait out rate limits (default BACKUP_API_MAX_WAIT_SECONDS, else 300)... */
  maxWaitSeconds?: number;
  /** ... out of this budget, shared by every capture of a run (default: this capture's own). */
  waitBudget?: WaitBudget;
  onWait?: (seconds: number, why: string) => void;
  /** Told about a problem that costs no record (an unreadable state file). */
  onWarning?: (message: string) => void;
  /** `GET /repos/O/R` as this run already got it (the identity lookup): settings read it instead of asking again. */
  repositoryAnswer?: CollectContext['repositoryAnswer'];
}

export interface MetadataCaptureResult {
  /** The metadata repository's main after this capture (null: nothing was ever captured). */
  commit: string | null;
  /** This capture made a commit. */
  committed: boolean;
  capturedAt: string;
  kinds: Partial<Record<MetadataKind, KindCapture>>;
  /** Documents this capture wrote (new or changed). */
  changedDocuments: number;
}

/** `<dir>/<positive integer>.json` only: an id GitHub sent that is not one never names a file. */
function record(dir: string): (path: string) => boolean {
  const pattern = new RegExp(`^${dir}/[1-9][0-9]{0,15}\\.json$`);
  return (path) => pattern.test(path);
}

/** Which kind a path of the tree belongs to, and the schema its document must pass before it is written. */
const DOCUMENT_KINDS: Array<{ kind: MetadataKind; matches: (path: string) => boolean; schema: ZodType; what: (path: string) => string }> = [
  { kind: 'settings', matches: (p) => p === metadataPaths.repository, schema: repositorySettingsSchema, what: () => 'repository settings' },
  { kind: 'labels', matches: (p) => p === metadataPaths.labels, schema: labelsDocumentSchema, what: () => 'labels' },
  { kind: 'milestones', matches: record('milestones'), schema: milestoneSchema, what: (p) => `milestone ${recordId(p)}` },
  { kind: 'issues', matches: record('issues'), schema: issueSchema, what: (p) => `issue #${recordId(p)}` },
  { kind: 'pulls', matches: record('pulls'), schema: pullSchema, what: (p) => `pull request #${recordId(p)}` },
  { kind: 'commitComments', matches: record('commit-comments'), schema: commitCommentSchema, what: (p) => `commit comment ${recordId(p)}` },
  { kind: 'releases', matches: record('releases'), schema: releaseSchema, what: (p) => `release ${recordId(p)}` },
];
const recordId = (path: string) => path.slice(path.lastIndexOf('/') + 1).replace(/\.json$/, '');

/** Page marks a kind owns (by request path), replaced as a whole when the kind returns new ones. */
function ownsPage(kind: MetadataKind, repoPath: string, key: string): boolean {
  const under = (sub: string) => key.startsWith(`${repoPath}/${sub}?`) || key === `${repoPath}/${sub}`;
  switch (kind) {
    case 'settings':
      return key === repoPath || key.startsWith(`${repoPath}/branches`);
    case 'labels':
      return under('labels');
    case 'milestones':
      return under('milestones');
    case 'commitComments':
      return under('comments');
    case 'releases':
      return under('releases');
    default:
      return false;
  }
}

export async function captureMetadata(options: CaptureOptions): Promise<MetadataCaptureResult> {
  const { git, repoDir } = options;
  const capturedAt = options.clock().toISOString();
  await ensureMetadataRepo(git, repoDir);
  const tree = await readMetadataTree(git, repoDir);
  const recorded = await readCaptureState(options.stateFile);
  if (recorded.problem) options.onWarning?.(recorded.problem);
  // Marks without the documents they stand for (a new or replaced metadata repository, one laid back from an older
  // snapshot) would answer 304 for records the tree does not hold.
  const foreign = Boolean(tree.commit && recorded.state.commit && recorded.state.commit !== tree.commit);
  if (foreign) options.onWarning?.(`the capture state was written after metadata commit ${recorded.state.commit}, the metadata repository is at ${tree.commit}: capturing everything again`);
  // The identity lookup's own mark stands for no document, so it survives a full capture.
  const { identity } = recorded.state;
  const state = tree.commit && !foreign ? recorded.state : { ...emptyCaptureState(), ...(identity ? { identity } : {}) };
  const repoPath = repositoryPath(options.owner, options.name);
  const client = createGitHubClient({
    apiUrl: options.apiUrl,
    token: options.token,
    signal: options.signal,
    fetch: bounded(options.fetch ?? fetch, options.deadline, options.requestTimeoutSeconds ?? 60),
    maxWaitSeconds: options.maxWaitSeconds,
    ...(options.waitBudget ? { waitBudget: options.waitBudget } : {}),
    onWait: options.onWait,
    onResponse: options.onResponse,
  });
  const ctx: CollectContext = {
    client,
    owner: options.owner,
    name: options.name,
    repoPath,
    state,
    capturedAt,
    ...(options.repositoryAnswer ? { repositoryAnswer: options.repositoryAnswer } : {}),
    tree,
    // The documents every capture reads (settings, labels, the last capture.json) in one git call.
    readDocuments: await documentReader(git, repoDir, tree, [metadataPaths.repository, metadataPaths.labels, metadataPaths.capture]),
    assetsDir: options.assetsDir,
    assetMaxBytes: options.selection.assetMaxBytes,
    downloadAssets: options.selection.downloadAssets,
    signal: options.signal,
    // An asset's bytes may take longer than a request's timeout; the deadline bounds them.
    fetch: bounded(options.fetch ?? fetch, options.deadline),
  };
  const results = await collectKinds(ctx, options.selection);

  const documents = new Map<string, Buffer>([[metadataPaths.format, Buffer.from(serializeDocument({ format: METADATA_REPO_FORMAT, version: METADATA_REPO_VERSION }))]]);
  for (const result of Object.values(results)) {
    for (const [path, document] of result.documents) {
      const spec = DOCUMENT_KINDS.find((d) => d.matches(path));
      const parsed = spec?.schema.safeParse(document);
      if (spec && parsed?.success) documents.set(path, Buffer.from(serializeDocument(parsed.data)));
      else {
        // GitHub answered something the format cannot hold: named, never silently dropped; the kept version stays.
        const why = parsed && !parsed.success ? parsed.error.issues.map((i) => `${i.path.join('.') || '(document)'}: ${i.message}`).slice(0, 3).join('; ') : 'not a path of the format';
        (result.skipped ??= []).push({ what: spec?.what(path) ?? JSON.stringify(path).slice(0, 100), reason: `not kept: GitHub's answer does not fit the format (${why})` });
      }
    }
  }
  const paths = new Set([...tree.blobs.keys(), ...documents.keys()]);
  const labelsDocument = documents.get(metadataPaths.labels);
  const labelCount = labelsDocument
    ? (JSON.parse(labelsDocument.toString('utf8')) as unknown[]).length
    : (((await ctx.readDocuments([metadataPaths.labels])).get(metadataPaths.labels) as unknown[] | undefined)?.length ?? 0);
  const kinds: Partial<Record<MetadataKind, KindCapture>> = {};
  for (const kind of METADATA_KINDS) {
    const result = results[kind];
    const spec = DOCUMENT_KINDS.find((d) => d.kind === kind)!;
    const count = kind === 'labels' ? labelCount : [...paths].filter(spec.matches).length;
    kinds[kind] = {
      state: result.state,
      count,
      ...(result.reason ? { reason: options.redactor.redact(result.reason) } : {}),
      ...(result.skipped?.length ? { skipped: result.skipped.map((s) => ({ what: s.what, reason: options.redactor.redact(s.reason) })) } : {}),
    };
  }
  const capture: CaptureDocument = captureDocumentSchema.parse({ capturedAt, repository: `${options.owner}/${options.name}`, kinds });
  const changed = changedDocuments(tree, documents);
  const previous = (await ctx.readDocuments([metadataPaths.capture])).get(metadataPaths.capture) as CaptureDocument | undefined;
  // capture.json's time alone is no change: a day with nothing new makes no commit.
  const due = changed.size > 0 || !previous || JSON.stringify(previous.kinds) !== JSON.stringify(capture.kinds);
  let commit = tree.commit;
  if (due) {
    changed.set(metadataPaths.capture, Buffer.from(serializeDocument(capture)));
    commit = await commitDocuments(git, repoDir, tree, changed, commitMessage(capture, changed), options.clock());
  }
  const marks: CaptureState = { ...nextState(state, results, repoPath), ...(commit ? { commit } : {}) };
  if (recorded.problem || !sameCaptureState(marks, recorded.state)) await writeCaptureState(options.stateFile, marks);
  return { commit, committed: due, capturedAt, kinds, changedDocuments: due ? changed.size - 1 : 0 };
}

/**
 * Requests ended by the deadline and, given `seconds`, by a timeout of their own: an API that stops answering costs
 * a minute, not the repository's whole deadline.
 */
function bounded(base: typeof fetch, deadline: AbortSignal | undefined, seconds?: number): typeof fetch {
  return (input, init) => {
    const signals = [init?.signal, deadline, seconds ? AbortSignal.timeout(seconds * 1000) : undefined].filter((s): s is AbortSignal => s !== undefined && s !== null);
    return base(input, { ...init, ...(signals.length ? { signal: AbortSignal.any(signals) } : {}) });
  };
}

async function collectKinds(ctx: CollectContext, selection: MetadataSelection): Promise<Record<MetadataKind, KindResult>> {
  const results = {} as Record<MetadataKind, KindResult>;
  let stoppedBy: KindResult | null = null;
  const run = async (kind: MetadataKind, collect: () => Promise<KindResult>) => {
    if (!selection.kinds[kind]) results[kind] = { state: 'disabled', reason: switchedOffReason(kind), documents: new Map() };
    else if (stoppedBy) {
      // A rate limit leaves the rest to the next run (partial); an API that does not answer fails them alike.
      const state = stoppedBy.state === 'partial' ? 'partial' : 'failed';
      results[kind] = { state, reason: `not read this run: ${stoppedBy.reason ?? 'stopped'}`, documents: new Map() };
    } else {
      results[kind] = await collect();
      if (results[kind].stopsRepository) stoppedBy = results[kind];
    }
  };
  await run('settings', async () => {
    const kept = (await ctx.readDocuments([metadataPaths.repository])).get(metadataPaths.repository);
    const parsed = repositorySettingsSchema.safeParse(kept);
    return collectSettings(ctx, parsed.success ? (parsed.data as RepositorySettings) : undefined);
  });
  await run('labels', () => collectLabels(ctx));
  await run('milestones', () => collectMilestones(ctx));
  // Issues and pull requests share their streams: read together, each reported on its own.
  const conversations = (selection.kinds.issues || selection.kinds.pulls) && !stoppedBy ? await collectConversations(ctx, { issues: selection.kinds.issues, pulls: selection.kinds.pulls }) : {};
  for (const kind of ['issues', 'pulls'] as const) {
    const result = conversations[kind];
    if (result) {
      results[kind] = result;
      if (result.stopsRepository) stoppedBy ??= result;
    } else await run(kind, () => Promise.reject(new Error(`${kind} were not collected`)));
  }
  await run('commitComments', () => collectCommitComments(ctx));
  await run('releases', () => collectReleases(ctx));
  return results;
}

function nextState(state: CaptureState, results: Record<MetadataKind, KindResult>, repoPath: string): CaptureState {
  const next: CaptureState = { ...state, pages: { ...state.pages }, streams: { ...state.streams }, assets: { ...state.assets } };
  for (const [kind, result] of Object.entries(results) as Array<[MetadataKind, KindResult]>) {
    if (result.pages) {
      for (const key of Object.keys(next.pages)) if (ownsPage(kind, repoPath, key)) delete next.pages[key];
      Object.assign(next.pages, result.pages);
    }
    Object.assign(next.streams, result.streams ?? {});
    Object.assign(next.assets, result.assets ?? {});
    if (result.protectionRefused === null) delete next.protectionRefused;
    else if (result.protectionRefused) next.protectionRefused = result.protectionRefused;
  }
  // Only what this capture read of the record stands: not read (switched off, failed), the wiki is asked for again.
  if (results.settings.hasWiki === undefined) delete next.hasWiki;
  else next.hasWiki = results.settings.hasWiki;
  return next;
}

function commitMessage(capture: CaptureDocument, changed: Map<string, Buffer>): string {
  const byDir = new Map<string, number>();
  for (const path of changed.keys()) {
    if (path === metadataPaths.capture) continue;
    const dir = path.includes('/') ? path.slice(0, path.indexOf('/')) : path.replace(/\.json$/, '');
    byDir.set(dir, (byDir.get(dir) ?? 0) + 1);
  }
  const summary = [...byDir].map(([dir, n]) => `${dir} ${n}`).join(', ') || 'capture states only';
  const problems = Object.entries(capture.kinds).filter(([, k]) => k.state === 'failed' || k.state === 'partial').map(([kind, k]) => `${kind}: ${k.state}`);
  return `Capture of ${capture.repository} at ${capture.capturedAt}\n\nChanged: ${summary}${problems.length ? `\nNot complete: ${problems.join(', ')}` : ''}\n`;
}
