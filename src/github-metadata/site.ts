// What export --metadata writes (docs/OPERATIONS.md "Reading issues, pull requests and releases offline"): the pages
// of a static site of one snapshot's records, and which asset files go beside them. Pure: the engine
// (src/engine/export-metadata.ts) checks the assets and writes the files.
import type { Asset, Comment, Issue, Pull, Release, ReviewComment } from './format.ts';
import type { MetadataRecords } from './read.ts';
import { html, page, safeFileName, STYLESHEET, textBlock, when, who, type SafeHtml } from './html.ts';

export interface SiteFile {
  /** Relative to the site's directory, forward slashes. */
  path: string;
  content: string;
}

export interface SiteAsset {
  sha256: string;
  /** Where the bytes go, relative to the site's directory. */
  path: string;
}

export interface SiteInput {
  repo: string;
  snapshot: string;
  records: MetadataRecords;
  /** Why an asset's bytes are not in the site (not downloaded, missing, damaged), or null when they are copied. */
  assetProblem(asset: Asset): string | null;
}

export const sitePaths = {
  index: 'index.html',
  stylesheet: 'style.css',
  issue: (n: number) => `issues/${n}.html`,
  pull: (n: number) => `pulls/${n}.html`,
  release: (id: number) => `releases/${id}.html`,
  /** Named by content, then by a cleaned-up file name, so two releases' files of one name never collide. */
  asset: (asset: Asset & { sha256: string }) => `assets/${asset.sha256}/${safeFileName(asset.name)}`,
};

const stateBadge = (state: string, merged = false) => html`<span class="${state === 'closed' && !merged ? 'state closed' : 'state'}">${merged ? 'merged' : state}</span>`;

function commentBlock(comment: Pick<Comment, 'author' | 'body' | 'createdAt' | 'updatedAt'>, note?: SafeHtml): SafeHtml {
  const edited = comment.updatedAt !== comment.createdAt ? html` · edited ${when(comment.updatedAt)}` : '';
  return html`<article class="comment"><header><strong>${who(comment.author)}</strong> · ${when(comment.createdAt)}${edited}${note ?? ''}</header>
${textBlock(comment.body)}</article>
`;
}

function issueHeader(issue: Issue, records: MetadataRecords, kind: string, merged = false): SafeHtml {
  const milestone = issue.milestone === null ? null : (records.milestones.find((m) => m.number === issue.milestone)?.title ?? `#${issue.milestone}`);
  return html`<h1>${issue.title} <span class="meta">#${issue.number}</span></h1>
<p class="meta">${stateBadge(issue.state, merged)} ${kind} opened by ${who(issue.author)} on ${when(issue.createdAt)}${issue.closedAt ? html` · closed ${when(issue.closedAt)}` : ''}${issue.locked ? ' · locked' : ''}</p>
${issue.labels.length ? html`<p>${issue.labels.map((l) => html`<span class="label">${l}</span>`)}</p>\n` : ''}${issue.assignees.length ? html`<p class="meta">Assigned to ${issue.assignees.map((a) => `@${a}`).join(', ')}</p>\n` : ''}${milestone ? html`<p class="meta">Milestone: ${milestone}</p>\n` : ''}${commentBlock({ author: issue.author, body: issue.body ?? '', createdAt: issue.createdAt, updatedAt: issue.updatedAt })}`;
}

function conversation(comments: Comment[]): SafeHtml {
  return comments.length ? html`<h2>Conversation</h2>\n${comments.map((c) => commentBlock(c))}` : html``;
}

function issuePage(issue: Issue, records: MetadataRecords): string {
  return page({ title: `${issue.title} · #${issue.number}`, depth: 1, body: html`${issueHeader(issue, records, 'Issue')}${conversation(issue.comments)}` });
}

/** Review comments as threads: each top-level comment with the replies under it (GitHub replies to the first). */
export function reviewThreads(comments: ReviewComment[]): ReviewComment[][] {
  const byId = new Map(comments.map((c) => [c.id, c]));
  const rootOf = (c: ReviewComment): ReviewComment => {
    const seen = new Set<number>();
    let at = c;
    while (at.inReplyTo !== null && byId.has(at.inReplyTo) && !seen.has(at.id)) {
      seen.add(at.id);
      at = byId.get(at.inReplyTo)!;
    }
    return at;
  };
  const threads = new Map<number, ReviewComment[]>();
  for (const c of [...comments].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id - b.id)) {
    const root = rootOf(c);
    threads.set(root.id, [...(threads.get(root.id) ?? []), c]);
  }
  return [...threads.values()];
}

function pullPage(pull: Pull, records: MetadataRecords): string {
  const reviews = pull.reviews.length
    ? html`<h2>Reviews</h2>\n${pull.reviews.map((r) => commentBlock({ author: r.author, body: r.body ?? '', createdAt: r.submittedAt ?? pull.createdAt, updatedAt: r.submittedAt ?? pull.createdAt }, html` · <strong>${r.state.toLowerCase().replace(/_/g, ' ')}</strong>`))}`
    : html``;
  const threads = reviewThreads(pull.reviewComments);
  const threadBlocks = threads.map((thread) => {
    const first = thread[0]!;
    const line = first.line ?? first.originalLine;
    return html`<section class="thread"><h3><code>${first.path}</code>${line === null ? '' : html` line ${line}`}${first.line === null ? ' (outdated)' : ''}</h3>
<pre class="diff">${first.diffHunk}</pre>
${thread.map((c) => commentBlock(c))}</section>
`;
  });
  const body = html`${issueHeader(pull, records, 'Pull request', pull.merged)}<p class="meta">${pull.head.repository && pull.head.repository !== pull.base.repository ? `${pull.head.repository}:` : ''}<code>${pull.head.ref}</code> (${pull.head.sha.slice(0, 12)}) into <code>${pull.base.ref}</code> (${pull.base.sha.slice(0, 12)})${pull.draft ? ' · draft' : ''}${pull.merged ? html` · merged ${when(pull.mergedAt)}${pull.mergeCommitSha ? ` as ${pull.mergeCommitSha.slice(0, 12)}` : ''}` : ''}</p>
${conversation(pull.comments)}${reviews}${threads.length ? html`<h2>Review comments</h2>\n${threadBlocks}` : ''}`;
  return page({ title: `${pull.title} · #${pull.number}`, depth: 1, body });
}

function releasePage(release: Release, input: SiteInput): string {
  const rows = release.assets.map((asset) => {
    const problem = input.assetProblem(asset);
    const name = problem === null && asset.sha256 ? html`<a href="../${sitePaths.asset({ ...asset, sha256: asset.sha256 })}">${asset.name}</a>` : html`${asset.name}<br><span class="empty">not in this backup: ${problem}</span>`;
    return html`<tr><td>${name}</td><td>${asset.label ?? ''}</td><td>${asset.size.toLocaleString('en-US')} bytes</td><td>${asset.contentType}</td><td><code>${asset.sha256 ?? ''}</code></td></tr>\n`;
  });
  const title = release.name || release.tagName;
  const body = html`<h1>${title}</h1>
<p class="meta">Tag <code>${release.tagName}</code> on <code>${release.targetCommitish}</code>${release.draft ? ' · draft' : ''}${release.prerelease ? ' · pre-release' : ''} · by ${who(release.author)} · ${release.publishedAt ? html`published ${when(release.publishedAt)}` : html`created ${when(release.createdAt)}`}</p>
${textBlock(release.body)}
<h2>Assets</h2>
${release.assets.length ? html`<table><tr><th>File</th><th>Label</th><th>Size</th><th>Type</th><th>sha256</th></tr>\n${rows}</table>` : html`<p class="empty">No assets.</p>`}`;
  return page({ title: `${title} · ${release.tagName}`, depth: 1, body });
}

function issueRows(items: Issue[], href: (n: number) => string, isPull: boolean): SafeHtml {
  if (!items.length) return html`<p class="empty">None.</p>\n`;
  return html`<table><tr><th>#</th><th>Title</th><th>State</th><th>Author</th><th>Opened</th><th>Comments</th></tr>
${items.map((i) => html`<tr><td>${i.number}</td><td><a href="${href(i.number)}">${i.title}</a></td><td>${stateBadge(i.state, isPull && (i as Pull).merged)}</td><td>${who(i.author)}</td><td>${when(i.createdAt)}</td><td>${i.comments.length}</td></tr>\n`)}</table>
`;
}

function indexPage(input: SiteInput): string {
  const { records } = input;
  const captured = records.capture ? html` · captured ${when(records.capture.capturedAt)}` : '';
  const settings = records.repository;
  const releases = records.releases.length
    ? html`<table><tr><th>Release</th><th>Tag</th><th>Published</th><th>Assets</th></tr>
${records.releases.map((r) => html`<tr><td><a href="${sitePaths.release(r.id)}">${r.name || r.tagName}</a>${r.draft ? ' (draft)' : ''}${r.prerelease ? ' (pre-release)' : ''}</td><td><code>${r.tagName}</code></td><td>${when(r.publishedAt ?? r.createdAt)}</td><td>${r.assets.length}</td></tr>\n`)}</table>
`
    : html`<p class="empty">None.</p>\n`;
  const commitComments = records.commitComments.length
    ? html`<h2>Commit comments (${records.commitComments.length})</h2>
${records.commitComments.map((c) => commentBlock(c, html` · on <code>${c.commitId.slice(0, 12)}</code>${c.path ? html` <code>${c.path}</code>${c.line === null ? '' : `:${c.line}`}` : ''}`))}`
    : '';
  const labels = records.labels.length ? html`<h2>Labels</h2>\n<p>${records.labels.map((l) => html`<span class="label" title="${l.description ?? ''}">${l.name}</span>`)}</p>\n` : '';
  const milestones = records.milestones.length
    ? html`<h2>Milestones</h2>\n<table><tr><th>#</th><th>Title</th><th>State</th><th>Due</th></tr>\n${records.milestones.map((m) => html`<tr><td>${m.number}</td><td>${m.title}</td><td>${m.state}</td><td>${when(m.dueOn)}</td></tr>\n`)}</table>\n`
    : '';
  const body = html`<h1>${input.repo}</h1>
<p class="meta">Snapshot ${input.snapshot}${captured} · metadata commit <code>${records.commit.slice(0, 12)}</code></p>
${settings?.description ? html`<p>${settings.description}</p>\n` : ''}<h2>Issues (${records.issues.length})</h2>
${issueRows(records.issues, sitePaths.issue, false)}<h2>Pull requests (${records.pulls.length})</h2>
${issueRows(records.pulls, sitePaths.pull, true)}<h2>Releases (${records.releases.length})</h2>
${releases}${milestones}${labels}${commitComments}`;
  return page({ title: `${input.repo} · ${input.snapshot}`, depth: 0, body });
}

/** Every page of the site and the asset files to copy beside them (each sha256 and name once). */
export function planSite(input: SiteInput): { files: SiteFile[]; assets: SiteAsset[] } {
  const { records } = input;
  const files: SiteFile[] = [
    { path: sitePaths.index, content: indexPage(input) },
    { path: sitePaths.stylesheet, content: STYLESHEET },
    ...records.issues.map((i) => ({ path: sitePaths.issue(i.number), content: issuePage(i, records) })),
    ...records.pulls.map((p) => ({ path: sitePaths.pull(p.number), content: pullPage(p, records) })),
    ...records.releases.map((r) => ({ path: sitePaths.release(r.id), content: releasePage(r, input) })),
  ];
  const assets = new Map<string, SiteAsset>();
  for (const release of records.releases) {
    for (const asset of release.assets) {
      if (!asset.sha256 || input.assetProblem(asset) !== null) continue;
      const path = sitePaths.asset({ ...asset, sha256: asset.sha256 });
      assets.set(path, { sha256: asset.sha256, path });
    }
  }
  return { files, assets: [...assets.values()] };
}
