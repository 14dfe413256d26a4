// GitHub's REST answers turned into the documents of docs/METADATA_FORMAT.md. Pure: no I/O, no clock. Only the
// fields the format names are read, so an API field GitHub adds or an URL it changes never shows in a day's diff.
import type { Asset, Comment, CommitComment, Issue, Label, Milestone, Pull, Release, RepositorySettings, Review, ReviewComment } from './format.ts';

/** The fields of GitHub's JSON we read; anything else it sends is ignored. */
export interface ApiUser {
  login?: string | null;
}
export interface ApiReactions {
  [reaction: string]: unknown;
}
export interface ApiIssue {
  number: number;
  title: string;
  body?: string | null;
  state: string;
  state_reason?: string | null;
  user?: ApiUser | null;
  created_at: string;
  updated_at: string;
  closed_at?: string | null;
  labels?: Array<string | { name?: string | null }>;
  assignees?: ApiUser[] | null;
  milestone?: { number: number } | null;
  locked?: boolean;
  active_lock_reason?: string | null;
  reactions?: ApiReactions;
  pull_request?: unknown;
}
export interface ApiComment {
  id: number;
  user?: ApiUser | null;
  body?: string | null;
  created_at: string;
  updated_at: string;
  reactions?: ApiReactions;
  /** Issue comments: .../issues/<number>. */
  issue_url?: string;
}
export interface ApiPull extends ApiIssue {
  draft?: boolean;
  merged?: boolean;
  merged_at?: string | null;
  merge_commit_sha?: string | null;
  base: ApiBranchEnd;
  head: ApiBranchEnd;
}
interface ApiBranchEnd {
  ref: string;
  sha: string;
  repo?: { full_name?: string } | null;
}
export interface ApiReview {
  id: number;
  user?: ApiUser | null;
  state: string;
  body?: string | null;
  submitted_at?: string | null;
  commit_id?: string | null;
}
export interface ApiReviewComment extends ApiComment {
  pull_request_review_id?: number | null;
  in_reply_to_id?: number | null;
  path: string;
  diff_hunk: string;
  line?: number | null;
  original_line?: number | null;
  side?: string | null;
  start_line?: number | null;
  original_start_line?: number | null;
  start_side?: string | null;
  commit_id: string;
  original_commit_id: string;
  /** .../pulls/<number>. */
  pull_request_url?: string;
}
export interface ApiCommitComment extends ApiComment {
  commit_id: string;
  path?: string | null;
  line?: number | null;
  position?: number | null;
}
export interface ApiLabel {
  name: string;
  color: string;
  description?: string | null;
}
export interface ApiMilestone {
  number: number;
  title: string;
  description?: string | null;
  state: string;
  due_on?: string | null;
  created_at: string;
  updated_at: string;
  closed_at?: string | null;
}
export interface ApiAsset {
  id: number;
  name: string;
  label?: string | null;
  content_type: string;
  size: number;
  created_at: string;
  updated_at: string;
}
export interface ApiRelease {
  id: number;
  tag_name: string;
  target_commitish: string;
  name?: string | null;
  body?: string | null;
  draft: boolean;
  prerelease: boolean;
  author?: ApiUser | null;
  created_at: string;
  published_at?: string | null;
  assets?: ApiAsset[];
}
export interface ApiRepository {
  full_name: string;
  description?: string | null;
  homepage?: string | null;
  topics?: string[];
  default_branch: string;
  visibility?: string;
  private?: boolean;
  archived?: boolean;
  has_issues?: boolean;
  has_wiki?: boolean;
  has_projects?: boolean;
  /** The token's user's access, present when the request was authenticated: read, never kept in a document. */
  permissions?: { admin?: boolean };
}

const loginOf = (user: ApiUser | null | undefined): string | null => user?.login ?? null;

/** Counts by reaction ("+1": 3); GitHub's total_count and url are left out. Absent when GitHub sent none. */
export function reactionCounts(reactions: ApiReactions | undefined): Record<string, number> | undefined {
  if (!reactions) return undefined;
  const counts: Record<string, number> = {};
  for (const [name, value] of Object.entries(reactions)) {
    if (name !== 'total_count' && name !== 'url' && typeof value === 'number' && Number.isInteger(value) && value > 0) counts[name] = value;
  }
  return counts;
}

const withReactions = (reactions: ApiReactions | undefined) => {
  const counts = reactionCounts(reactions);
  return counts ? { reactions: counts } : {};
};

export function normalizeComment(api: ApiComment): Comment {
  return { id: api.id, author: loginOf(api.user), body: api.body ?? '', createdAt: api.created_at, updatedAt: api.updated_at, ...withReactions(api.reactions) };
}

/** Oldest first; equal times by id, so the order never depends on how GitHub paged them. */
export function sortComments<T extends { id: number; createdAt: string }>(comments: T[]): T[] {
  return [...comments].sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id - b.id));
}

/** `kept` updated by `changed` (same id: the newer version wins), oldest first. A comment deleted on GitHub stays. */
export function mergeComments<T extends { id: number; createdAt: string }>(kept: T[], changed: T[]): T[] {
  const byId = new Map(kept.map((c) => [c.id, c]));
  for (const comment of changed) byId.set(comment.id, comment);
  return sortComments([...byId.values()]);
}

const labelName = (label: string | { name?: string | null }): string | null => (typeof label === 'string' ? label : (label.name ?? null));

/** The issue fields shared by issues and pull requests (docs/METADATA_FORMAT.md). */
function issueFields(api: ApiIssue, comments: Comment[]): Issue {
  return {
    number: api.number,
    title: api.title,
    body: api.body ?? null,
    state: api.state === 'closed' ? 'closed' : 'open',
    ...(api.state_reason !== undefined ? { stateReason: api.state_reason } : {}),
    author: loginOf(api.user),
    createdAt: api.created_at,
    updatedAt: api.updated_at,
    closedAt: api.closed_at ?? null,
    labels: (api.labels ?? []).map(labelName).filter((n): n is string => n !== null).sort(),
    assignees: (api.assignees ?? []).map(loginOf).filter((n): n is string => n !== null).sort(),
    milestone: api.milestone?.number ?? null,
    locked: api.locked ?? false,
    ...(api.locked && api.active_lock_reason ? { lockReason: api.active_lock_reason } : {}),
    ...withReactions(api.reactions),
    comments: sortComments(comments),
  };
}

export function normalizeIssue(api: ApiIssue, comments: Comment[]): Issue {
  return issueFields(api, comments);
}

export function normalizeReview(api: ApiReview): Review {
  return { id: api.id, author: loginOf(api.user), state: api.state, body: api.body ?? null, submittedAt: api.submitted_at ?? null, commitId: api.commit_id ?? null };
}

export function normalizeReviewComment(api: ApiReviewComment): ReviewComment {
  return {
    ...normalizeComment(api),
    reviewId: api.pull_request_review_id ?? null,
    inReplyTo: api.in_reply_to_id ?? null,
    path: api.path,
    diffHunk: api.diff_hunk,
    line: api.line ?? null,
    originalLine: api.original_line ?? null,
    side: api.side ?? null,
    // Only for a comment on a range: a single-line comment's document stays as it was before ranges were kept.
    ...(typeof api.start_line === 'number' || typeof api.original_start_line === 'number'
      ? { startLine: api.start_line ?? null, originalStartLine: api.original_start_line ?? null, startSide: api.start_side ?? null }
      : {}),
    commitId: api.commit_id,
    originalCommitId: api.original_commit_id,
  };
}

const branchEnd = (end: ApiBranchEnd) => ({ ref: end.ref, sha: end.sha, repository: end.repo?.full_name ?? null });

export interface PullParts {
  /** The pull request as /pulls answers it (its own fields: draft, merged, base, head). */
  pull: ApiPull;
  /** The same number as /issues answers it (reactions, state reason), when this capture read it. */
  issue?: ApiIssue;
  /** The document kept so far, whose reactions stand when /issues was not read. */
  kept?: Pull;
  comments: Comment[];
  reviews: Review[];
  reviewComments: ReviewComment[];
}

export function normalizePull(parts: PullParts): Pull {
  const { pull, issue, kept } = parts;
  // /pulls carries no reactions and no state reason: /issues has them; without it, what was kept stands.
  const fields = issueFields({ ...pull, ...(issue ? { reactions: issue.reactions, state_reason: issue.state_reason } : {}) }, parts.comments);
  if (!issue && kept?.reactions) fields.reactions = kept.reactions;
  if (!issue && kept?.stateReason !== undefined) fields.stateReason = kept.stateReason;
  return {
    ...fields,
    draft: pull.draft ?? false,
    merged: pull.merged ?? pull.merged_at != null,
    mergedAt: pull.merged_at ?? null,
    mergeCommitSha: pull.merge_commit_sha ?? null,
    base: branchEnd(pull.base),
    head: branchEnd(pull.head),
    reviews: [...parts.reviews].sort((a, b) => a.id - b.id),
    reviewComments: sortComments(parts.reviewComments),
  };
}

export function normalizeCommitComment(api: ApiCommitComment): CommitComment {
  return { ...normalizeComment(api), commitId: api.commit_id, path: api.path ?? null, line: api.line ?? null, position: api.position ?? null };
}

export function normalizeLabels(api: ApiLabel[]): Label[] {
  return api.map((l) => ({ name: l.name, color: l.color, description: l.description ?? null })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function normalizeMilestone(api: ApiMilestone): Milestone {
  return {
    number: api.number,
    title: api.title,
    description: api.description ?? null,
    state: api.state === 'closed' ? 'closed' : 'open',
    dueOn: api.due_on ?? null,
    createdAt: api.created_at,
    updatedAt: api.updated_at,
    closedAt: api.closed_at ?? null,
  };
}

/** What became of one asset's bytes: kept under their sha256, or not downloaded and why. */
export type AssetBytes = { sha256: string } | { skipped: string };

export function normalizeRelease(api: ApiRelease, bytes: (asset: ApiAsset) => AssetBytes): Release {
  return {
    id: api.id,
    tagName: api.tag_name,
    targetCommitish: api.target_commitish,
    name: api.name ?? null,
    body: api.body ?? null,
    draft: api.draft,
    prerelease: api.prerelease,
    author: loginOf(api.author),
    createdAt: api.created_at,
    publishedAt: api.published_at ?? null,
    assets: [...(api.assets ?? [])]
      .sort((a, b) => a.id - b.id)
      .map((a): Asset => {
        const kept = bytes(a);
        return {
          id: a.id,
          name: a.name,
          label: a.label ?? null,
          contentType: a.content_type,
          size: a.size,
          createdAt: a.created_at,
          updatedAt: a.updated_at,
          ...('sha256' in kept ? { sha256: kept.sha256 } : { sha256: null, skipped: kept.skipped }),
        };
      }),
  };
}

export function normalizeSettings(api: ApiRepository, branchProtection: Record<string, unknown> | undefined): RepositorySettings {
  return {
    fullName: api.full_name,
    description: api.description ?? null,
    homepage: api.homepage || null,
    topics: [...(api.topics ?? [])].sort(),
    defaultBranch: api.default_branch,
    visibility: api.visibility ?? (api.private ? 'private' : 'public'),
    archived: api.archived ?? false,
    hasIssues: api.has_issues ?? true,
    hasWiki: api.has_wiki ?? true,
    ...(api.has_projects !== undefined ? { hasProjects: api.has_projects } : {}),
    ...(branchProtection ? { branchProtection } : {}),
  };
}

/** The issue or pull request number at the end of an issue_url / pull_request_url, or null. */
export function parentNumber(url: string | undefined): number | null {
  const match = /\/(\d+)$/.exec(url ?? '');
  return match ? Number(match[1]) : null;
}
