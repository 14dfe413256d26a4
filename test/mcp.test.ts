// The MCP server spoken to by the SDK's own client over stdio, spawning the built CLI against real repositories.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from './helpers/cli.ts';
import { createBackup, createUpstream, makeTempDir, refsOf, type TestBackup } from './helpers/git-fixtures.ts';
import { addMetadataToSnapshot, sampleMetadata } from './helpers/metadata-snapshot.ts';

const SECRET = 'ghp_mcpTestSecretThatMustNeverAppear0001';

interface Connection {
  client: Client;
  stderr: () => string;
  close(): Promise<void>;
}

async function connect(root: string, ...extra: string[]): Promise<Connection> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'mcp', '--root', root, ...extra],
    env: { PATH: process.env.PATH!, HOME: process.env.HOME!, GITHUB_TOKEN: SECRET },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr!.on('data', (d) => (stderr += d));
  const client = new Client({ name: 'gpb-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, stderr: () => stderr, close: () => client.close() };
}

type ToolResult = { content: Array<{ type: string; text?: string }>; isError?: boolean; structuredContent?: Record<string, unknown> };
const textOf = (r: ToolResult) => r.content.map((c) => c.text ?? '').join('\n');

interface Outcome {
  repo: string;
  ok: boolean;
  value?: Record<string, unknown>;
}
const outcomesOf = (r: ToolResult) => (r.structuredContent as { outcomes: Outcome[] }).outcomes;

describe('backup-manager mcp', () => {
  const one = createUpstream({ name: 'one' });
  const two = createUpstream({ name: 'two' });
  let backup: TestBackup;
  let conn: Connection;
  const seen: string[] = [];
  const call = async (name: string, args: Record<string, unknown> = {}): Promise<ToolResult> => {
    const result = (await conn.client.callTool({ name, arguments: args })) as ToolResult;
    seen.push(JSON.stringify(result));
    return result;
  };

  /** The name of the repository's pinned snapshot, as list_snapshots reports it. */
  const pinnedOf = async (repository: string): Promise<string | undefined> => {
    const snapshots = outcomesOf(await call('list_snapshots', { repository }))[0]!.value!.snapshots as Array<{ name: string; pinned?: unknown }>;
    return snapshots.find((s) => s.pinned)?.name;
  };

  beforeAll(async () => {
    backup = createBackup([one, two]);
    const synced = await backup.engine.sync();
    expect(synced.exitCode).toBe(0);
    conn = await connect(backup.root);
  });
  afterAll(async () => {
    await conn?.close();
    one.cleanup();
    two.cleanup();
  });

  it('lists the tools with read-only and destructive annotations', async () => {
    const { tools } = await conn.client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    expect([...byName.keys()].sort()).toEqual([
      'diff_snapshots',
      'export',
      'find',
      'list_repositories',
      'list_snapshots',
      'restore',
      'snapshot',
      'status',
      'store_list',
      'store_prune',
      'store_verify',
      'unpin',
      'verify',
    ]);
    for (const name of ['status', 'list_snapshots', 'verify', 'list_repositories', 'diff_snapshots', 'find', 'store_list', 'store_verify']) {
      expect(byName.get(name)!.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
    }
    for (const name of ['restore', 'unpin', 'store_prune']) expect(byName.get(name)!.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    expect(Object.keys(byName.get('store_verify')!.inputSchema.properties!).sort()).toEqual(['readData', 'readDataSubsetPercent', 'repository']);
    expect(Object.keys(byName.get('unpin')!.inputSchema.properties!).sort()).toEqual(['repository', 'snapshot']);
    expect(byName.get('snapshot')!.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: false });
    // Open world: whatever may reach upstream, GitHub's API, the store or a push target (diff reaches upstream for `upstream`).
    for (const name of ['diff_snapshots', 'restore', 'snapshot', 'store_list', 'store_verify', 'store_prune']) expect(byName.get(name)!.annotations!.openWorldHint).toBe(true);
    for (const name of ['status', 'list_snapshots', 'list_repositories', 'find', 'verify', 'unpin', 'export']) expect(byName.get(name)!.annotations!.openWorldHint).toBe(false);
    expect(Object.keys(byName.get('restore')!.inputSchema.properties!)).toEqual(expect.arrayContaining(['repository', 'snapshot', 'to', 'push', 'dryRun']));
    expect(Object.keys(byName.get('restore')!.inputSchema.properties!)).not.toContain('fromArchive');
  });

  it('list_repositories, status and list_snapshots read what is under the root', async () => {
    const repos = await call('list_repositories');
    expect(repos.isError).toBeFalsy();
    expect(outcomesOf(repos).map((o) => o.value).sort((a, b) => String(a!.repo).localeCompare(String(b!.repo)))).toEqual([
      { repo: 'acme/one', url: one.bare, initialized: true },
      { repo: 'acme/two', url: two.bare, initialized: true },
    ]);
    expect(textOf(repos)).toMatch(/✓ acme\/one: .*one\.git/);

    const status = await call('status');
    expect(status.isError).toBeFalsy();
    expect(textOf(status)).toMatch(/acme\/one: HEALTHY/);
    expect(outcomesOf(status).map((o) => o.repo).sort()).toEqual(['acme/one', 'acme/two']);

    const listed = await call('list_snapshots', { repository: 'acme/one' });
    expect(outcomesOf(listed)).toHaveLength(1);
    expect((outcomesOf(listed)[0]!.value!.snapshots as unknown[]).length).toBe(1);
  });

  it('snapshot takes one, verify checks every snapshot', async () => {
    const unreasoned = await call('snapshot', { repository: 'acme/one', pin: true });
    expect(unreasoned.isError).toBe(true);
    expect(textOf(unreasoned)).toBe('a pinned snapshot needs a reason: give one in the "reason" parameter');
    const taken = await call('snapshot', { repository: 'acme/one', pin: true, reason: 'before a risky change' });
    expect(taken.isError).toBeFalsy();
    expect(textOf(taken)).toMatch(/acme\/one: snapshot-\d{8}-\d{6}/);
    expect(textOf(taken)).toMatch(/pinned: before a risky change/);
    expect(textOf(await call('list_snapshots', { repository: 'acme/one' }))).toMatch(/\[pinned: before a risky change\]/);
    expect(readdirSync(join(backup.root, 'snapshots/acme/one')).filter((n) => n.startsWith('snapshot-'))).toHaveLength(2);

    const verified = await call('verify', { repository: 'acme/one', all: true });
    expect(verified.isError).toBeFalsy();
    expect(textOf(verified)).toMatch(/2 snapshot\(s\) verified/);
    const bad = await call('verify', { repository: 'acme/one', all: true, snapshot: 'latest' });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toMatch(/not both/);
  });

  it('restore is a dry run by default, then restores to a new directory', async () => {
    const target = join(makeTempDir('gpb-mcp-restore-'), 'copy.git');
    const dry = await call('restore', { repository: 'acme/two', to: target });
    expect(dry.isError).toBeFalsy();
    expect(textOf(dry)).toMatch(/would restore snapshot-/);
    expect(existsSync(target)).toBe(false);

    const real = await call('restore', { repository: 'acme/two', to: target, dryRun: false });
    expect(real.isError).toBeFalsy();
    expect(refsOf(target)).toEqual(refsOf(two.bare));
  });

  it('refuses a destructive call on a read-only server and leaves the mirror alone', async () => {
    const mirror = join(backup.root, 'immutable/acme/one.git');
    const before = refsOf(mirror);
    const refused = await call('restore', { repository: 'acme/one', dryRun: false });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(/restore in place replaces the live mirror, and this server is read-only: to do this, restart the MCP server with --allow-write/);
    expect(readdirSync(dirname(mirror)).filter((n) => n.includes('.replaced-'))).toEqual([]);
    expect(refsOf(mirror)).toEqual(before);
    const forced = await call('restore', { repository: 'acme/one', to: makeTempDir('gpb-mcp-full-'), force: true, dryRun: false });
    expect(forced.isError).toBe(true);
    expect(textOf(forced)).toMatch(/force .* read-only/);
  });

  it('refuses unpin on a read-only server: the snapshot stays pinned', async () => {
    const name = await pinnedOf('acme/one');
    const refused = await call('unpin', { repository: 'acme/one', snapshot: name });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toBe('unpin is destructive and this server is read-only: to do this, restart the MCP server with --allow-write (docs/MCP.md)');
    expect(await pinnedOf('acme/one')).toBe(name);
  });

  it('refuses store_prune on a read-only server; store_verify runs (and says no store is configured here)', async () => {
    const refused = await call('store_prune', { dryRun: true });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toBe('store_prune is destructive and this server is read-only: to do this, restart the MCP server with --allow-write (docs/MCP.md)');
    const verified = await call('store_verify');
    expect(verified.isError).toBe(true);
    expect(textOf(verified)).toMatch(/store verify: no store is configured/);
  });

  it("an engine error comes back as isError with the CLI's message and the hint in MCP's terms", async () => {
    const result = await call('restore', { to: join(makeTempDir('gpb-mcp-two-'), 'x') });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe('restore to a directory or a remote works on one repository; 2 are selected: name one in the "repository" parameter');
    const unknown = await call('list_snapshots', { repository: 'acme/missing' });
    expect(unknown.isError).toBeFalsy();
    expect(textOf(unknown)).toMatch(/acme\/missing/);
  });

  it('diff_snapshots and find answer from the recorded refs', async () => {
    const diff = await call('diff_snapshots', { repository: 'acme/two', from: 'latest' });
    expect(diff.isError).toBeFalsy();
    expect(textOf(diff)).toMatch(/-> mirror: 0 added, 0 deleted, 0 moved, 0 force-moved, 4 unchanged/);
    const found = await call('find', { repository: 'acme/two', query: 'feature' });
    expect(found.isError).toBeFalsy();
    expect(outcomesOf(found)[0]!.value).toMatchObject({ kind: 'ref', sightings: [{ refs: [{ ref: 'refs/heads/feature', match: 'name' }] }] });
  });

  it('export writes an archive whose checksum it reports', async () => {
    const exported = await call('export', { repository: 'acme/one' });
    expect(exported.isError).toBeFalsy();
    const value = outcomesOf(exported)[0]!.value as { archive: string; sha256: string };
    expect(createHash('sha256').update(readFileSync(value.archive)).digest('hex')).toBe(value.sha256);
  });

  it('export with metadata writes the readable site of the snapshot\'s issues', async () => {
    const snapshot = readdirSync(join(backup.root, 'snapshots', 'acme', 'two')).sort().at(-1)!;
    addMetadataToSnapshot(join(backup.root, 'snapshots', 'acme', 'two', snapshot), sampleMetadata().documents);
    const site = join(makeTempDir('gpb-mcp-site-'), 'site');
    const exported = await call('export', { repository: 'acme/two', metadata: true, output: site });
    expect(exported.isError).toBeFalsy();
    expect(outcomesOf(exported)[0]!.value).toMatchObject({ site, counts: { issues: 2, pulls: 1, releases: 1 } });
    expect(readFileSync(join(site, 'issues', '1.html'), 'utf8')).toContain('Crash on start');
  });

  it("offers each snapshot's manifest as a resource", async () => {
    const { resources } = await conn.client.listResources();
    const uris = resources.map((r) => r.uri);
    expect(uris.filter((u) => u.startsWith('backup://acme/one/'))).toHaveLength(2);
    const uri = uris.find((u) => u.startsWith('backup://acme/two/'))!;
    const read = await conn.client.readResource({ uri });
    const manifest = JSON.parse((read.contents[0] as { text: string }).text) as { repository: string; refs: Record<string, string> };
    expect(manifest.repository).toBe('acme/two');
    expect(Object.keys(manifest.refs)).toEqual(expect.arrayContaining(['refs/heads/main', 'refs/tags/v1.1']));
    await expect(conn.client.readResource({ uri: 'backup://acme/one/snapshots/..%2F..%2Fetc/snapshot.json' })).rejects.toThrow();
  });

  it('logs to stderr only and never shows the token', async () => {
    expect(conn.stderr()).toMatch(/mcp: serving .* over stdio \(read-only/);
    for (const text of [...seen, conn.stderr()]) expect(text).not.toContain(SECRET);
  });

  it('with --allow-write unpins: retention applies to the snapshot again', async () => {
    const name = await pinnedOf('acme/one');
    const writable = await connect(backup.root, '--allow-write');
    try {
      const call = async (args: Record<string, unknown>) => (await writable.client.callTool({ name: 'unpin', arguments: args })) as ToolResult;
      const two = await call({ snapshot: name });
      expect(two.isError).toBe(true);
      expect(textOf(two)).toMatch(/unpin works on one repository; 2 are selected: name one in the "repository" parameter/);
      const unpinned = await call({ repository: 'acme/one', snapshot: name });
      expect(unpinned.isError, textOf(unpinned)).toBeFalsy();
      expect(textOf(unpinned)).toMatch(new RegExp(`${name} unpinned \\(it was pinned: before a risky change\\)`));
      expect(await pinnedOf('acme/one')).toBeUndefined();
      const again = await call({ repository: 'acme/one', snapshot: name });
      expect(again.isError).toBe(true);
      expect(textOf(again)).toMatch(/is not pinned/);
    } finally {
      await writable.close();
    }
  });

  it('with --allow-write restores in place, keeping the replaced mirror as a pinned snapshot', async () => {
    const writable = await connect(backup.root, '--allow-write');
    try {
      const result = (await writable.client.callTool({ name: 'restore', arguments: { repository: 'acme/one', dryRun: false } })) as ToolResult;
      expect(result.isError).toBeFalsy();
      expect(textOf(result)).toMatch(/the replaced mirror is kept as pinned snapshot snapshot-\S+ \(replaced by restore of snapshot-/);
      expect(readdirSync(join(backup.root, 'immutable/acme')).filter((n) => n.startsWith('one.git.replaced-'))).toEqual([]);
    } finally {
      await writable.close();
    }
  });
});
