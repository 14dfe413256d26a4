// Rate-limit-aware concurrency: the pure pace (src/pace.ts), then a real run against the GitHub API stand-in serving
// a budget that is nearly spent, with git over HTTP beside it. The stand-in records when each request came and what
// budget it answered, and the test reads the pace off that record.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../src/engine/index.ts';
import { budgetFromHeaders, lowWater, MAX_PAUSE_MS, newerBudget, paceFor, RESERVE } from '../src/pace.ts';
import { createBackup, createUpstream, type Upstream } from './helpers/git-fixtures.ts';
import { serveThroughBackend } from './helpers/git-http.ts';
import { GitHubStandIn, rateLimited } from './helpers/github-standin.ts';

describe('the pace (pure)', () => {
  const now = 1_000_000;
  it('is full speed with a healthy budget, none known, or a window that is over', () => {
    expect(paceFor(null, now, 4)).toEqual({ concurrency: 4, pauseMs: 0, mode: 'full' });
    expect(paceFor({ limit: 5000, remaining: 600, resetAt: now + 60_000 }, now, 4).mode).toBe('full');
    expect(paceFor({ limit: 5000, remaining: 3, resetAt: now - 1 }, now, 4).mode).toBe('full');
  });

  it('goes one at a time, spreading what is left over the reset window, then waits for the reset', () => {
    expect(lowWater(5000)).toBe(500);
    expect(lowWater(60)).toBe(2 * RESERVE);
    expect(paceFor({ limit: 5000, remaining: 499, resetAt: now + 60_000 }, now, 4)).toEqual({ concurrency: 1, pauseMs: Math.ceil(60_000 / (499 - RESERVE)), mode: 'slow' });
    expect(paceFor({ limit: 5000, remaining: RESERVE, resetAt: now + 60_000 }, now, 4)).toEqual({ concurrency: 1, pauseMs: 60_000, mode: 'wait-for-reset' });
    expect(paceFor({ limit: 5000, remaining: 0, resetAt: now + 3_600_000 }, now, 4).pauseMs).toBe(MAX_PAUSE_MS);
  });

  it('reads GitHub\'s headers, and keeps the lower count within a window and the later window across', () => {
    const headers = { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '42', 'x-ratelimit-reset': '1700000000', 'x-ratelimit-resource': 'core' };
    expect(budgetFromHeaders(headers)).toEqual({ limit: 5000, remaining: 42, resetAt: 1_700_000_000_000 });
    expect(budgetFromHeaders({ ...headers, 'x-ratelimit-resource': 'search' })).toBeNull();
    expect(budgetFromHeaders({ 'content-type': 'application/json' })).toBeNull();
    const a = { limit: 60, remaining: 30, resetAt: 5000 };
    expect(newerBudget(a, { ...a, remaining: 31 })).toBe(a);
    expect(newerBudget(a, { ...a, remaining: 29 }).remaining).toBe(29);
    expect(newerBudget(a, { ...a, remaining: 60, resetAt: 9000 }).remaining).toBe(60);
    expect(newerBudget(a, { ...a, remaining: 1, resetAt: 1000 })).toBe(a);
  });
});

describe('a run on a nearly spent API budget', () => {
  const LIMIT = 60;
  const CONCURRENCY = 4;
  const upstreams: Upstream[] = Array.from({ length: 10 }, (_, i) => createUpstream({ name: `paced-${String(i).padStart(2, '0')}` }));
  const standIn = new GitHubStandIn();
  let answered: Array<{ repo: string; start: number; end: number; remaining: number; refused: boolean }> = [];
  let remaining = 0;
  let resetAt = 0;

  /** A fresh budget window: `left` requests until `ms` from now, then GitHub's full limit again. */
  const windowOf = (left: number, ms: number) => {
    answered = [];
    remaining = left;
    resetAt = Math.ceil((Date.now() + ms) / 1000) * 1000;
    return resetAt;
  };

  const run = async () => {
    // Git data only: the metadata capture's own requests would blur the one-request-per-repository picture.
    const off = { wiki: false, lfs: false, issues: false, pulls: false, releases: false, assets: false, settings: false };
    const repositories = upstreams.map((u) => ({ repo: u.id, url: `${standIn.url}/${u.id}.git`, metadata: off }));
    const { settings } = createBackup([], { repositories, apiUrl: standIn.url, concurrency: CONCURRENCY });
    const logged: string[] = [];
    const result = await createEngine({ settings, logger: { log: (level, line) => logged.push(`${level} ${line.replace(/^\S+ \S+\s+/, '')}`) } }).sync();
    expect(result.failed).toEqual([]);
    expect(answered.map((a) => a.repo).sort()).toEqual(upstreams.map((u) => u.id.split('/')[1]).sort());
    expect(answered.filter((a) => a.refused)).toEqual([]);
    const byStart = [...answered].sort((a, b) => a.start - b.start);
    // The first requests came at once (nothing was known yet): they overlap.
    expect(byStart[1]!.start).toBeLessThan(byStart[0]!.end);
    return { byStart, paces: logged.filter((l) => /GitHub API (requests left|budget restored)/.test(l)) };
  };

  beforeAll(async () => {
    standIn.on('GET', /^\/repos\/acme\/([^/]+)$/, async (_req, [name]) => {
      const start = Date.now();
      if (start >= resetAt) {
        remaining = LIMIT;
        resetAt = Math.ceil((start + 60_000) / 1000) * 1000;
      }
      const refused = remaining === 0;
      if (!refused) remaining--;
      const left = remaining;
      // A little work per request, as GitHub takes: long enough for overlapping requests to show.
      await new Promise((r) => setTimeout(r, 120));
      answered.push({ repo: name!, start, end: Date.now(), remaining: left, refused });
      if (refused) return rateLimited(resetAt / 1000);
      const headers = { 'x-ratelimit-limit': String(LIMIT), 'x-ratelimit-remaining': String(left), 'x-ratelimit-reset': String(resetAt / 1000), 'x-ratelimit-resource': 'core' };
      return { status: 200, body: { id: 500 + upstreams.findIndex((u) => u.id === `acme/${name}`), full_name: `acme/${name}` }, headers };
    });
    standIn.serveRaw((req, res) => {
      const match = /^\/(acme\/[^/]+)\.git\//.exec(req.url ?? '');
      if (!match) return false;
      void serveThroughBackend(join(upstreams.find((u) => u.id === match[1])!.tmp, 'upstream'), req, res);
      return true;
    });
    await standIn.start();
  });
  afterAll(async () => {
    await standIn.close();
    for (const u of upstreams) u.cleanup();
  });

  it('below the low-water mark: one repository at a time, what is left spread over the window, none refused', async () => {
    // Long enough that a loaded machine still sends two paced requests inside it (3 s was not, under load).
    const reset = windowOf(30, 6000);
    const { byStart, paces } = await run();
    // After the first four, every request in the window waited for the one before it to finish, and for a pause.
    const paced = byStart.slice(CONCURRENCY).filter((a) => a.start < reset);
    expect(paced.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < paced.length; i++) {
      expect(paced[i]!.start, `request ${i} overlapped the one before`).toBeGreaterThanOrEqual(paced[i - 1]!.end);
      expect(paced[i]!.start - paced[i - 1]!.end).toBeGreaterThanOrEqual(100);
    }
    // The reserve was not touched.
    expect(Math.min(...answered.filter((a) => a.start < reset).map((a) => a.remaining))).toBeGreaterThan(RESERVE);
    // (Whether the run outlives the window, and so logs the restored budget, depends on the machine: the next test says it.)
    expect(paces[0]).toMatch(/^warn 2\d of 60 GitHub API requests left until .*: one repository at a time, \d+ ms apart$/);
  });

  it('at the reserve: waits for the reset, then goes on at full speed', async () => {
    // Four requests at once bring 24 down to the reserve.
    const reset = windowOf(RESERVE + CONCURRENCY, 4000);
    const { byStart, paces } = await run();
    const before = byStart.filter((a) => a.start < reset);
    expect(before.length).toBeGreaterThanOrEqual(CONCURRENCY);
    // Until the reset, no request began after an answer had said the budget was down to the reserve. (A worker whose
    // repository finished before the others' first answers came may start one more on what it knew: that is what the
    // reserve is for. On a quiet machine the four answers come first, and exactly four go out.)
    const reserveSeenAt = Math.min(...before.filter((a) => a.remaining <= RESERVE).map((a) => a.end));
    for (const a of before) expect(a.start, `${a.repo} started after the reserve was known`).toBeLessThanOrEqual(reserveSeenAt);
    // Nothing more went out until the reset: the first request after it came once the window was over.
    expect(byStart[before.length]!.start).toBeGreaterThanOrEqual(reset);
    // (Staggered starts may first log the slower pace, on an answer seen before the reserve was reached.)
    const waiting = paces.find((l) => l.endsWith('waiting for the reset before the next repository')) ?? '';
    const logged = /^warn (\d+) of 60 GitHub API requests left until (\S+): waiting for the reset before the next repository$/.exec(waiting);
    expect(logged?.[2]).toBe(new Date(reset).toISOString());
    expect(Number(logged?.[1])).toBeLessThanOrEqual(RESERVE);
    expect(paces.at(-1)).toBe(`info GitHub API budget restored: ${CONCURRENCY} repositories at once again`);
  });
});
