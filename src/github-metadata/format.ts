// The format of a repository's GitHub metadata backup (docs/METADATA_FORMAT.md): what the capture writes, what
// snapshots carry, and what export --metadata and restore --metadata-to read. One module, so the writer and every
// reader agree. Documents are our own normalized shape (camelCase, no API URLs), not GitHub's raw JSON, so a day's
// diff shows what changed on GitHub and nothing else.
import { z } from 'zod';

export const METADATA_REPO_FORMAT = 'github-private-backup-metadata';
export const METADATA_REPO_VERSION = 1;
/** The one branch of a metadata repository; every capture that changed something is a commit on it. */
export const METADATA_BRANCH = 'refs/heads/main';
/** Inside a snapshot directory: the metadata repository as of that snapshot, and the release assets it names. */
export const SNAPSHOT_METADATA_DIR = 'github-metadata';
export const SNAPSHOT_METADATA_REPO = `${SNAPSHOT_METADATA_DIR}/repo.git`;
export const SNAPSHOT_METADATA_ASSETS = `${SNAPSHOT_METADATA_DIR}/assets`;

/** The kinds of records captured; each can be switched off and each fails on its own. */
export const METADATA_KINDS = ['settings', 'labels', 'milestones', 'issues', 'pulls', 'commitComments', 'releases'] as const;
export type MetadataKind = (typeof METADATA_KINDS)[number];

/** Paths inside the metadata repository's tree. */
export const metadataPaths = {
  format: 'format.json',
  capture: 'capture.json',
  repository: 'repository.json',
  labels: 'labels.json',
  milestone: (number: number) => `milestones/${number}.json`,
  issue: (number: number) => `issues/${number}.json`,
  pull: (number: number) => `pulls/${number}.json`,
  commitComment: (id: number) => `commit-comments/${id}.json`,
  release: (id: number) => `releases/${id}.json`,
} as const;

/** Where a release asset's bytes live: content-addressed, so they are written once and hard-linked into snapshots. */
export function assetFileName(sha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256: ${JSON.stringify(sha256)}`);
  return sha256;
}

const isoTime = z.iso.datetime({ offset: true });
const login = z.string().nullable(); // null: a deleted ("ghost") account
const reactions = z.record(z.string(), z.number().int().nonnegative());

export const formatDocumentSchema = z.object({ format: z.literal(METADATA_REPO_FORMAT), version: z.literal(METADATA_REPO_VERSION) });

export const commentSchema = z.object({
  id: z.number().int(),
  author: login,
  body: z.string(),
  createdAt: isoTime,
  updatedAt: isoTime,
  reactions: reactions.optional(),
});
export type Comment = z.infer<typeof commentSchema>;

export const labelSchema = z.object({ name: z.string(), color: z.string(), description: z.string().nullable() });
export type Label = z.infer<typeof labelSchema>;
export const labelsDocumentSchema = z.array(labelSchema);

export const milestoneSchema = z.object({
  number: z.number().int().positive(),
  title: z.string(),
  description: z.string().nullable(),
  state: z.enum(['open', 'closed']),
  dueOn: isoTime.nullable(),
  createdAt: isoTime,
  updatedAt: isoTime,
  closedAt: isoTime.nullable(),
});
export type Milestone = z.infer<typeof milestoneSchema>;

const issueFields = {
  number: z.number().int().positive(),
  title: z.string(),
  body: z.string().nullable(),
  state: z.enum(['open', 'closed']),
  stateReason: z.string().nullable().optional(),
  author: login,
  createdAt: isoTime,
  updatedAt: isoTime,
  closedAt: isoTime.nullable(),
  labels: z.array(z.string()),
  assignees: z.array(z.string()),
  /** The milestone's number (milestones/<number>.json). */
  milestone: z.number().int().positive().nullable(),
  locked: z.boolean(),
  /** Why it is locked, as GitHub names it (off-topic, too heated, resolved, spam); absent in captures before it was kept. */
  lockReason: z.string().nullable().optional(),
  reactions: reactions.optional(),
  /** The conversation, oldest first. */
  comments: z.array(commentSchema),
};

export const issueSchema = z.object(issueFields);
export type Issue = z.infer<typeof issueSchema>;

export const reviewSchema = z.object({
  id: z.number().int(),
  author: login,
  state: z.string(),
  body: z.string().nullable(),
  submittedAt: isoTime.nullable(),
  commitId: z.string().nullable(),
});
export type Review = z.infer<typeof reviewSchema>;

export const reviewCommentSchema = commentSchema.extend({
  reviewId: z.number().int().nullable(),
  inReplyTo: z.number().int().nullable(),
  path: z.string(),
  diffHunk: z.string(),
  line: z.number().int().nullable(),
  originalLine: z.number().int().nullable(),
  side: z.string().nullable(),
  /** A comment on a range of lines: its first line (as of `commitId`, and as written), and that line's side. */
  startLine: z.number().int().nullable().optional(),
  originalStartLine: z.number().int().nullable().optional(),
  startSide: z.string().nullable().optional(),
  commitId: z.string(),
  originalCommitId: z.string(),
});
export type ReviewComment = z.infer<typeof reviewCommentSchema>;

const branchEnd = z.object({ ref: z.string(), sha: z.string(), repository: z.string().nullable() });

export const pullSchema = z.object({
  ...issueFields,
  draft: z.boolean(),
  merged: z.boolean(),
  mergedAt: isoTime.nullable(),
  mergeCommitSha: z.string().nullable(),
  base: branchEnd,
  head: branchEnd,
  reviews: z.array(reviewSchema),
  reviewComments: z.array(reviewCommentSchema),
});
export type Pull = z.infer<typeof pullSchema>;

export const commitCommentSchema = commentSchema.extend({
  commitId: z.string(),
  path: z.string().nullable(),
  line: z.number().int().nullable(),
  position: z.number().int().nullable(),
});
export type CommitComment = z.infer<typeof commitCommentSchema>;

export const assetSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  label: z.string().nullable(),
  contentType: z.string(),
  size: z.number().int().nonnegative(),
  createdAt: isoTime,
  updatedAt: isoTime,
  /** sha256 of the downloaded bytes (the file is assets/<sha256>); null when not downloaded, and `skipped` says why. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  skipped: z.string().optional(),
});
export type Asset = z.infer<typeof assetSchema>;

export const releaseSchema = z.object({
  id: z.number().int(),
  tagName: z.string(),
  targetCommitish: z.string(),
  name: z.string().nullable(),
  body: z.string().nullable(),
  draft: z.boolean(),
  prerelease: z.boolean(),
  author: login,
  createdAt: isoTime,
  publishedAt: isoTime.nullable(),
  assets: z.array(assetSchema),
});
export type Release = z.infer<typeof releaseSchema>;

export const repositorySettingsSchema = z.object({
  fullName: z.string(),
  description: z.string().nullable(),
  homepage: z.string().nullable(),
  topics: z.array(z.string()),
  defaultBranch: z.string(),
  visibility: z.string(),
  archived: z.boolean(),
  hasIssues: z.boolean(),
  hasWiki: z.boolean(),
  hasProjects: z.boolean().optional(),
  /** Branch protection as the API returned it, by branch; absent when the token cannot read it (capture.json says). */
  branchProtection: z.record(z.string(), z.unknown()).optional(),
});
export type RepositorySettings = z.infer<typeof repositorySettingsSchema>;

/** How one kind fared in the capture that made this commit. */
export const kindCaptureSchema = z.object({
  /** complete: every record read; partial: stopped early (rate-limit budget), resumes next run; failed: none read this
   *  time (older records kept); disabled: switched off in the config, or the feature is off on GitHub. */
  state: z.enum(['complete', 'partial', 'failed', 'disabled']),
  /** Records of this kind in the tree after this capture. */
  count: z.number().int().nonnegative(),
  /** Why, when not complete: e.g. "HTTP 410: issues are disabled", "HTTP 451: unavailable for legal reasons". */
  reason: z.string().optional(),
  /** Assets not downloaded (size cap, failed download), each named; never silently dropped. */
  skipped: z.array(z.object({ what: z.string(), reason: z.string() })).optional(),
});
export type KindCapture = z.infer<typeof kindCaptureSchema>;

export const captureDocumentSchema = z.object({
  capturedAt: isoTime,
  repository: z.string(),
  kinds: z.partialRecord(z.enum(METADATA_KINDS), kindCaptureSchema),
});
export type CaptureDocument = z.infer<typeof captureDocumentSchema>;

/** What snapshot.json records about the metadata it carries (field `githubMetadata`). */
export const snapshotMetadataSummarySchema = z.object({
  /** The metadata repository's commit in `github-metadata/repo.git` as of this snapshot. */
  commit: z.string().regex(/^[0-9a-f]{40,64}$/),
  capturedAt: isoTime,
  kinds: z.partialRecord(z.enum(METADATA_KINDS), kindCaptureSchema),
  assets: z.object({ files: z.number().int().nonnegative(), bytes: z.number().int().nonnegative() }),
});
export type SnapshotMetadataSummary = z.infer<typeof snapshotMetadataSummarySchema>;

/** Serialized the same way everywhere, so an unchanged record is an unchanged blob and a day's diff is empty. */
export function serializeDocument(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
