// export --metadata: a snapshot's issues, pull requests and releases as a static site (docs/OPERATIONS.md). Real
// snapshots taken by the engine, with a metadata repository built by git plumbing in them; the site is read back
// as files: every link resolves, hostile text from GitHub comes out inert, asset bytes are the snapshot's.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../src/errors.ts';
import { escapeHtml, html, safeFileName } from '../src/github-metadata/html.ts';
import { reviewThreads } from '../src/github-metadata/site.ts';
import { SNAPSHOT_METADATA_REPO, type ReviewComment } from '../src/github-metadata/format.ts';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { createMetadataRepo } from './helpers/metadata-repo.ts';
import { runCli } from './helpers/cli.ts';
import { createBackup, createUpstream, makeTempDir, okValue } from './helpers/git-fixtures.ts';
import { addMetadataToSnapshot, backupWithMetadata, HOSTILE, sampleMetadata, sha256Of } from './helpers/metadata-snapshot.ts';

const cleanups = cleanupAfterEach();

const withMetadata = (documents?: Record<string, unknown>, assets?: Parameters<typeof addMetadataToSnapshot>[2]) => backupWithMetadata(cleanups, { documents, assets });

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** Every href and src in the site's pages, as the file each resolves to. */
function linksOf(site: string): Array<{ page: string; target: string }> {
  const links: Array<{ page: string; target: string }> = [];
  for (const page of filesUnder(site).filter((f) => f.endsWith('.html'))) {
    for (const match of readFileSync(join(site, page), 'utf8').matchAll(/\s(?:href|src)="([^"]*)"/g)) {
      const href = match[1]!.replace(/&amp;/g, '&');
      expect(href, `${page}: ${href}`).not.toMatch(/^[a-z]+:|^\/\//i); // relative links only: works offline
      links.push({ page, target: resolve(site, dirname(page), decodeURIComponent(href)) });
    }
  }
  return links;
}

describe('the HTML helpers', () => {
  it('escape every character that can open markup or leave an attribute', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&amp;</a>`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
    expect(html`<p title="${'"><script>'}">${'</p><script>'}</p>`.markup).toBe('<p title="&quot;&gt;&lt;script&gt;">&lt;/p&gt;&lt;script&gt;</p>');
    // Nested templates are markup already; arrays are joined; null, undefined and false vanish.
    expect(html`<ul>${['<1>', '<2>'].map((i) => html`<li>${i}</li>`)}</ul>${null}${undefined}${false}`.markup).toBe('<ul><li>&lt;1&gt;</li><li>&lt;2&gt;</li></ul>');
  });

  it('make a file name one safe path segment', () => {
    expect(safeFileName(HOSTILE.fileName)).toBe('__..__b_evil__b__.sh');
    expect(safeFileName('..')).toBe('_');
    expect(safeFileName('')).toBe('file');
    expect(safeFileName('widget-1.2.3+linux_x64.tar.gz')).toBe('widget-1.2.3+linux_x64.tar.gz');
    expect(safeFileName('a'.repeat(300))).toHaveLength(100);
  });

  it('group review comments into threads under their first comment, and stop at a reply loop', () => {
    const c = (id: number, inReplyTo: number | null, at: string) => ({ id, inReplyTo, createdAt: at }) as ReviewComment;
    const threads = reviewThreads([c(3, 1, '2026-01-03'), c(1, null, '2026-01-01'), c(2, null, '2026-01-02'), c(4, 3, '2026-01-04'), c(5, 6, '2026-01-05'), c(6, 5, '2026-01-06')]);
    expect(threads.map((t) => t.map((x) => x.id))).toEqual([[1, 3, 4], [2], [5], [6]]);
  });
});

describe('export --metadata', () => {
  it('writes a site whose every link resolves, with the records, the review threads and the asset bytes', async () => {
    const { b, snapshot, commit, sample } = await withMetadata();
    const site = join(makeTempDir('gpb-site-'), 'site');
    const value = okValue(await b.engine.exportMetadata({ output: site }));
    expect(value).toMatchObject({ snapshot: { repository: 'acme/widgets', name: snapshot }, site, metadataCommit: commit, counts: { issues: 2, pulls: 1, releases: 1, pages: 5 }, assets: { files: 2 }, keptPrevious: null });
    expect(value.assetsMissing).toEqual([{ release: 'v1.0', asset: 'huge.iso', reason: 'not downloaded: over metadata.assetMaxBytes (1 GiB)' }]);

    const files = filesUnder(site);
    expect(files).toEqual(
      expect.arrayContaining(['index.html', 'style.css', 'site.json', 'issues/1.html', 'issues/2.html', 'pulls/3.html', 'releases/900.html']),
    );
    // Nothing is left beside the site.
    expect(readdirSync(dirname(site))).toEqual(['site']);

    const links = linksOf(site);
    for (const link of links) expect(existsSync(link.target), `${link.page} links to ${link.target}`).toBe(true);
    // Every page is reachable from the index, and every copied asset from its release page.
    const linked = new Set(links.map((l) => relative(site, l.target)));
    for (const file of files.filter((f) => f !== 'index.html' && f !== 'site.json')) expect(linked.has(file), file).toBe(true);

    const index = readFileSync(join(site, 'index.html'), 'utf8');
    expect(index).toContain('<a href="issues/1.html">Crash on start</a>');
    expect(index).toContain('<a href="pulls/3.html">Add the widget</a>');
    expect(index).toContain(`<h2>Commit comments (1)</h2>`);
    expect(index).toContain(`on <code>cccccccccccc</code> <code>${escapeHtml(HOSTILE.fileName)}</code>:3`);
    const issue = readFileSync(join(site, 'issues/1.html'), 'utf8');
    expect(issue).toContain('I see it too');
    expect(issue).toContain('a deleted account');
    expect(issue).toContain('Milestone: v1');
    const pull = readFileSync(join(site, 'pulls/3.html'), 'utf8');
    expect(pull).toContain('changes requested');
    expect(pull).toMatch(/<code>feature\.txt<\/code> line 1<\/h3>\n<pre class="diff">@@ -1 \+1 @@/);
    expect(pull.indexOf('Rename this.')).toBeLessThan(pull.indexOf('Done.'));

    // The assets are the snapshot's bytes, under cleaned-up names; the skipped one says why and links nowhere.
    const release = readFileSync(join(site, 'releases/900.html'), 'utf8');
    expect(release).toContain('not in this backup: not downloaded: over metadata.assetMaxBytes (1 GiB)');
    for (const bytes of sample.assets) {
      const dir = join(site, 'assets', sha256Of(bytes));
      const [name] = readdirSync(dir);
      expect(readFileSync(join(dir, name!))).toEqual(bytes);
    }
    expect(readdirSync(join(site, 'assets', sha256Of(sample.assets[0]!)))).toEqual([safeFileName(HOSTILE.fileName)]);
  });

  it('shows hostile text from GitHub as text: no markup, script or handler survives', async () => {
    const { b } = await withMetadata();
    const site = join(makeTempDir('gpb-site-'), 'site');
    okValue(await b.engine.exportMetadata({ output: site }));
    for (const page of filesUnder(site).filter((f) => f.endsWith('.html'))) {
      const text = readFileSync(join(site, page), 'utf8');
      expect(text, page).not.toMatch(/<script|<img|<svg|<iframe|<b>/i);
      // The only attributes are ours: no on* handler and no javascript: URL outside escaped text.
      for (const tag of text.matchAll(/<[a-z][^>]*>/gi)) expect(tag[0], page).not.toMatch(/\son\w+=|javascript:/i);
      // Exactly the <pre> blocks we opened are closed: a body's "</pre>" did not end one early.
      expect(text.split('<pre').length, page).toBe(text.split('</pre>').length);
    }
    const issue = readFileSync(join(site, 'issues/2.html'), 'utf8');
    expect(issue).toContain(escapeHtml(HOSTILE.body));
    expect(issue).toContain(escapeHtml(HOSTILE.title));
    expect(issue).toContain(escapeHtml(`@${HOSTILE.login}`));
    expect(readFileSync(join(site, 'pulls/3.html'), 'utf8')).toContain(escapeHtml(HOSTILE.hunk));
    expect(readFileSync(join(site, 'releases/900.html'), 'utf8')).toContain(`>${escapeHtml(HOSTILE.fileName)}</a>`);
  });

  it('replaces an earlier site of its own; any other directory needs force and is kept', async () => {
    const { b } = await withMetadata();
    const parent = makeTempDir('gpb-site-');
    const site = join(parent, 'site');
    okValue(await b.engine.exportMetadata({ output: site }));
    writeFileSync(join(site, 'issues/1.html'), 'stale');
    okValue(await b.engine.exportMetadata({ output: site }));
    expect(readFileSync(join(site, 'issues/1.html'), 'utf8')).toContain('Crash on start');
    expect(readdirSync(parent)).toEqual(['site']);

    const other = join(parent, 'notes');
    mkdirSync(other);
    writeFileSync(join(other, 'mine.txt'), 'keep me');
    const refused = await b.engine.exportMetadata({ output: other });
    expect(refused.exitCode).toBe(ExitCode.USAGE);
    expect(refused.outcomes[0]).toMatchObject({ ok: false, error: expect.stringMatching(/is not a site written by export.*--force/) });
    expect(readdirSync(other)).toEqual(['mine.txt']);

    const forced = okValue(await b.engine.exportMetadata({ output: other, force: true }));
    expect(forced.keptPrevious).toMatch(/notes\.replaced-/);
    expect(readFileSync(join(forced.keptPrevious!, 'mine.txt'), 'utf8')).toBe('keep me');
    expect(existsSync(join(other, 'index.html'))).toBe(true);
  });

  it('defaults to archives/<owner>/<repo>/<snapshot>.metadata and refuses a directory inside the backup', async () => {
    const { b, snapshot } = await withMetadata();
    const value = okValue(await b.engine.exportMetadata());
    expect(value.site).toBe(join(b.root, 'archives', 'acme', 'widgets', `${snapshot}.metadata`));
    const inside = await b.engine.exportMetadata({ output: join(b.root, 'snapshots', 'acme', 'site') });
    expect(inside.outcomes[0]).toMatchObject({ ok: false, error: expect.stringMatching(/part of the backup root/) });
    expect(inside.exitCode).toBe(ExitCode.USAGE);
  });

  it('is point in time: the site of an older snapshot shows an issue as it was that day', async () => {
    const upstream = createUpstream();
    cleanups.push(() => upstream.cleanup());
    const b = createBackup([upstream]);
    const live = createMetadataRepo(b.root, { owner: 'acme', name: 'widgets' });
    const issue = sampleMetadata().issues[0]!;
    live.put('issues/1.json', issue);
    live.commit('2026-03-01T02:00:00Z');
    expect((await b.engine.sync()).exitCode).toBe(0);
    live.put('issues/1.json', { ...issue, title: 'Crash on start (edited)', body: 'Rewritten later' });
    live.commit('2026-03-02T02:00:00Z');
    expect((await b.engine.sync()).exitCode).toBe(0);
    const [older, newer] = okValue(await b.engine.list()).snapshots.map((s) => s.name);
    const site = (snapshot: string) => {
      const out = join(makeTempDir('gpb-site-'), 'site');
      return b.engine.exportMetadata({ snapshot, output: out }).then((r) => (okValue(r), readFileSync(join(out, 'issues/1.html'), 'utf8')));
    };
    const then = await site(older!);
    expect(then).toContain('<title>Crash on start · #1</title>');
    expect(then).toContain('Body of 1');
    expect(await site(newer!)).toContain('Rewritten later');
  });

  it('an asset file that is missing or damaged is named, and the rest of the site is written', async () => {
    const sample = sampleMetadata();
    const damaged = Buffer.from(sample.assets[0]!);
    damaged[0] = damaged[0]! ^ 1;
    const { b } = await withMetadata(sample.documents, [{ sha256: sha256Of(sample.assets[0]!), bytes: damaged }]);
    const site = join(makeTempDir('gpb-site-'), 'site');
    const value = okValue(await b.engine.exportMetadata({ output: site }));
    expect(value.assets.files).toBe(0);
    expect(value.assetsMissing.map((m) => m.reason)).toEqual([
      'its file in the snapshot is damaged (sha256 mismatch; run verify)',
      'its file is missing from the snapshot',
      'not downloaded: over metadata.assetMaxBytes (1 GiB)',
    ]);
    expect(existsSync(join(site, 'assets'))).toBe(false);
    expect(readFileSync(join(site, 'releases/900.html'), 'utf8')).toContain('damaged');
  });
});

describe('reading a snapshot\'s metadata', () => {
  const failure = async (documents: Record<string, unknown>) => {
    const { b } = await withMetadata(documents, []);
    const result = await b.engine.exportMetadata({ output: join(makeTempDir('gpb-site-'), 'site') });
    expect(result.outcomes[0]!.ok).toBe(false);
    return result;
  };
  const format = { 'format.json': { format: 'github-private-backup-metadata', version: 1 } };
  const errorOf = (r: { outcomes: Array<{ ok: boolean; error?: string }> }) => (r.outcomes[0] as { error: string }).error;

  it('a snapshot without metadata is "not found" (exit 10), saying so', async () => {
    const upstream = createUpstream();
    cleanups.push(() => upstream.cleanup());
    const b = createBackup([upstream]);
    expect((await b.engine.sync()).exitCode).toBe(0);
    const result = await b.engine.exportMetadata({ output: join(makeTempDir('gpb-site-'), 'site') });
    expect(result.exitCode).toBe(ExitCode.NOT_FOUND);
    expect(errorOf(result)).toMatch(/holds no GitHub metadata \(github-metadata\/repo\.git is missing\)/);
  });

  it('an invalid or misfiled document is refused, naming its path and field', async () => {
    const sample = sampleMetadata();
    const noTitle = { ...sample.issues[0]!, title: undefined };
    expect(errorOf(await failure({ ...format, 'issues/1.json': noTitle }))).toMatch(/issues\/1\.json is not a valid document of its kind \(title: /);
    expect(errorOf(await failure({ ...format, 'issues/7.json': sample.issues[0] }))).toMatch(/issues\/7\.json holds number 1, not the 7 its name says/);
    expect(errorOf(await failure({ ...format, 'releases/900.json': '{"id": 900,' }))).toMatch(/releases\/900\.json is not valid JSON/);
  });

  it('a repository of another format or version, or without format.json, is refused', async () => {
    expect(errorOf(await failure({ 'format.json': { format: 'github-private-backup-metadata', version: 2 } }))).toMatch(/format\.json names format 2, not version 1/);
    expect(errorOf(await failure({ 'issues/1.json': sampleMetadata().issues[0] }))).toMatch(/format\.json is missing: this is not a metadata repository/);
  });

  it('a metadata repository that leads git elsewhere (alternates) is refused before git reads it', async () => {
    const { b, snapshot } = await withMetadata(sampleMetadata().documents);
    const elsewhere = makeTempDir('gpb-elsewhere-');
    const repo = join(b.root, 'snapshots', 'acme', 'widgets', snapshot, SNAPSHOT_METADATA_REPO);
    writeFileSync(join(repo, 'objects', 'info', 'alternates'), `${elsewhere}\n`);
    const result = await b.engine.exportMetadata({ output: join(makeTempDir('gpb-site-'), 'site') });
    // Refused by the snapshot's structural checks (src/engine/structure.ts), before any git runs.
    expect(errorOf(result)).toMatch(/github-metadata\/repo\.git\/objects\/info\/alternates: git would read another directory through this file/);
  });
});

describe('backup-manager export --metadata', () => {
  it('writes the site and prints where its index is', async () => {
    const { b } = await withMetadata();
    const site = join(makeTempDir('gpb-site-'), 'site');
    const run = await runCli(['export', 'latest', '--metadata', '--output', site, '--root', b.root, '--repo', b.settings.repositories[0] as string]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`metadata -> ${site}/index.html (2 issue(s), 1 pull request(s), 1 release(s), 2 asset file(s)`);
    expect(run.stdout).toContain('v1.0: huge.iso is not in the site: not downloaded');
    expect(existsSync(join(site, 'index.html'))).toBe(true);
    const both = await runCli(['export', '--metadata', '--format', 'tar.gz', '--root', b.root]);
    expect(both.code).toBe(ExitCode.USAGE);
    expect(both.stderr).toMatch(/format does not apply/);
  });
});
