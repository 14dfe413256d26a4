// The operations table is the one list: the CLI, actions/backup, the daily workflow and (soon) MCP derive from it.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BACKUP_ACTIONS } from '../actions/backup/src/input-helper.ts';
import { COMMANDS } from '../src/cli/main.ts';
import { UsageError } from '../src/errors.ts';
import { HINT_CODES, renderHint, withHint } from '../src/hints.ts';
import { ACTION_OPERATIONS, DISPATCH_OPERATIONS, OPERATIONS, parseInput, type OperationResult } from '../src/operations/index.ts';
import { createBackup, createUpstream, okValue } from './helpers/git-fixtures.ts';

describe('the operations table', () => {
  it('names each entry by its key, and the CLI offers every one (store push|list under "store")', () => {
    for (const [key, op] of Object.entries(OPERATIONS)) expect(op.name).toBe(key);
    const cli = new Set(COMMANDS.map((c) => c.name));
    for (const name of Object.keys(OPERATIONS)) expect(cli.has(name.split(' ')[0]!), name).toBe(true);
    for (const command of COMMANDS) {
      const op = (OPERATIONS as Record<string, { summary: string }>)[command.name];
      if (op) expect(command.summary).toBe(op.summary);
    }
  });

  it('is what actions/backup accepts and what action.yml documents', () => {
    expect(BACKUP_ACTIONS).toEqual(ACTION_OPERATIONS);
    const action = parse(readFileSync('actions/backup/action.yml', 'utf8')) as { inputs: { action: { description: string } } };
    const documented = /What to do: (.*)\./.exec(action.inputs.action.description)![1]!.split(' | ');
    expect(documented).toEqual([...ACTION_OPERATIONS]);
  });

  it("is the daily workflow's choices when run by hand", () => {
    const workflow = parse(readFileSync('.github/workflows/github-private-daily-backup.yml', 'utf8')) as { on: { workflow_dispatch: { inputs: { action: { options: string[] } } } } };
    expect([...workflow.on.workflow_dispatch.inputs.action.options].sort()).toEqual([...DISPATCH_OPERATIONS].sort());
    for (const name of DISPATCH_OPERATIONS) expect(ACTION_OPERATIONS).toContain(name);
  });

  it('marks what writes and what destroys', () => {
    const readOnly = Object.values(OPERATIONS).filter((o) => o.readOnly).map((o) => o.name);
    expect(readOnly.sort()).toEqual(['diff', 'find', 'health', 'list', 'repositories', 'status', 'store list', 'store verify', 'verify']);
    expect(OPERATIONS['store prune'].destructive).toBe(true);
    for (const op of Object.values(OPERATIONS)) if (op.destructive) expect(op.readOnly).toBe(false);
    expect(OPERATIONS.restore.destructive && OPERATIONS.prune.destructive && OPERATIONS.unpin.destructive).toBe(true);
  });

  it('validates input against the schema: a bad value is a usage error naming the field', () => {
    expect(() => parseInput(OPERATIONS.prune, { retentionDays: 0 })).toThrow(UsageError);
    expect(() => parseInput(OPERATIONS.prune, { retentionDays: 0 })).toThrow(/^prune: retentionDays: /);
    expect(() => parseInput(OPERATIONS.verify, { all: true, snapshot: 'latest' })).toThrow(/not both/);
    expect(() => parseInput(OPERATIONS.restore, { to: '/tmp/x', push: 'file:///x' })).toThrow(/cannot be combined/);
    expect(() => parseInput(OPERATIONS.list, { surprise: 1 })).toThrow(UsageError);
    expect(parseInput(OPERATIONS.restore, { snapshot: 'latest', dryRun: true })).toEqual({ snapshot: 'latest', dryRun: true });
  });
});

describe('hints', () => {
  it('each face words every hint in its own terms', () => {
    const words: Record<(typeof HINT_CODES)[number], { cli: RegExp; action: RegExp; mcp: RegExp }> = {
      'name-repositories': { cli: /--repo/, action: /"repositories" input/, mcp: /"repository" parameter/ },
      'pick-one-repository': { cli: /--repo/, action: /"repositories" input/, mcp: /"repository" parameter/ },
      'pin-reason': { cli: /--reason TEXT/, action: /does not pin/, mcp: /"reason" parameter/ },
    };
    for (const code of HINT_CODES) for (const face of ['cli', 'action', 'mcp'] as const) expect(renderHint(code, face)).toMatch(words[code][face]);
    expect(withHint('restore: boom', undefined, 'cli')).toBe('restore: boom');
  });
});

describe('running operations against real repositories', () => {
  const upstreams = [createUpstream({ name: 'one' }), createUpstream({ name: 'two' })];
  afterAll(() => upstreams.forEach((u) => u.cleanup()));

  it('returns results told apart by command, and engine errors carry a hint code, not a flag', async () => {
    const backup = createBackup(upstreams);
    const results: OperationResult[] = [await OPERATIONS.sync.run(backup.engine, {}), await OPERATIONS.list.run(backup.engine, {})];
    const [synced, listed] = results;
    expect(synced!.command).toBe('sync');
    if (listed!.command !== 'list') throw new Error('expected list');
    expect(okValue(listed!).snapshots).toHaveLength(1);

    const error = await OPERATIONS.restore.run(backup.engine, { to: '/nonexistent-target' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).not.toMatch(/--/);
    expect((error as UsageError).hint).toBe('pick-one-repository');
  });
});
