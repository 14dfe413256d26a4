// Bottleneck's zero waits are immediate (src/github/bottleneck-scheduling.ts): a request through the shared client
// starts no Bottleneck timer, while the waits that mean something (the write pacing, a Retry-After) still wait as
// long as they say. Timers are seen as they are created (async_hooks), by whether Bottleneck's code made them. And
// the connection is kept alive: no request pays for a new one (docs/BENCHMARKS.md "GitHub metadata capture").
import { createHook } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useImmediateScheduling } from '../src/github/bottleneck-scheduling.ts';
import { createGitHubClient } from '../src/github/client.ts';
import { setEnv } from './helpers/env.ts';
import { GitHubStandIn } from './helpers/github-standin.ts';

const TOKEN = 'ghp_SCHEDtokenSCHEDtokenSCHEDtoken12345678';
const BASE_MS = 50;

/** Runs `work`, counting the timers created meanwhile from Bottleneck's own code. */
async function bottleneckTimers(work: () => Promise<unknown>): Promise<number> {
  let count = 0;
  const hook = createHook({
    init(_id, type) {
      if (type === 'Timeout' && /[\\/]bottleneck[\\/]/.test(new Error().stack ?? '')) count++;
    },
  });
  hook.enable();
  try {
    await work();
  } finally {
    hook.disable();
  }
  return count;
}

describe('Bottleneck scheduling under the shared client', () => {
  let api: GitHubStandIn;
  let restoreEnv = () => {};
  beforeEach(async () => {
    api = await new GitHubStandIn().start();
    restoreEnv = setEnv({ BACKUP_RETRY_BASE_MS: String(BASE_MS) });
  });
  afterEach(async () => {
    await api.close();
    restoreEnv();
  });

  it('is applied to the Bottleneck both plugins use (an upgrade that changes its internals fails here)', () => {
    expect(useImmediateScheduling()).toBe(true);
  });

  it('reads start no Bottleneck timer; paced writes still do, and wait the pace', async () => {
    api.on('GET', '/repos/acme/widgets', () => ({ status: 200, body: { id: 7 } }));
    let created = 0;
    api.on('POST', '/repos/acme/widgets/labels', () => ({ status: 201, body: { id: ++created } }));
    const client = createGitHubClient({ apiUrl: api.url, token: TOKEN });
    // The first request sets up the plugin's limiter groups (once per process, each with a cleanup interval).
    await client.request('GET /repos/acme/widgets');
    const reads = await bottleneckTimers(async () => {
      for (let i = 0; i < 5; i++) expect((await client.request('GET /repos/acme/widgets')).data).toEqual({ id: 7 });
    });
    expect(reads).toBe(0);
    // GitHub asks for a second between writes (BASE_MS here): the second write waits for it on a timer.
    const start = performance.now();
    const writes = await bottleneckTimers(async () => {
      for (const name of ['a', 'b']) await client.request('POST /repos/acme/widgets/labels', { name });
    });
    expect(performance.now() - start).toBeGreaterThanOrEqual(BASE_MS - 1);
    expect(writes).toBeGreaterThan(0);
    expect(created).toBe(2);
    expect(api.calls.filter((c) => c.startsWith('GET'))).toHaveLength(6);
  });

  it('requests one after another share one kept-alive connection, across clients too', async () => {
    api.on('GET', '/repos/acme/widgets', () => ({ status: 200, body: { id: 7 } }));
    for (let i = 0; i < 3; i++) {
      const client = createGitHubClient({ apiUrl: api.url, token: TOKEN });
      for (let j = 0; j < 5; j++) await client.request('GET /repos/acme/widgets');
    }
    expect(api.requests).toHaveLength(15);
    expect(api.connections).toBe(1);
  });

  it('a secondary rate limit is still waited out for its Retry-After', async () => {
    const asked: number[] = [];
    api.on('GET', '/repos/acme/busy', () => {
      asked.push(Date.now());
      if (asked.length === 1) return { status: 403, headers: { 'retry-after': '3' }, body: { message: 'You have exceeded a secondary rate limit.' } };
      return { status: 200, body: { id: 9 } };
    });
    const client = createGitHubClient({ apiUrl: api.url, token: TOKEN });
    expect((await client.request('GET /repos/acme/busy')).data).toEqual({ id: 9 });
    expect(asked).toHaveLength(2);
    expect(asked[1]! - asked[0]!).toBeGreaterThanOrEqual(3 * BASE_MS - 5);
  });
});
