import type { Command } from './command.ts';
import { renderOutcomes } from './render.ts';
import { UsageError } from '../errors.ts';
import { OPERATIONS, parseInput } from '../operations/index.ts';
import type { FindRepoResult } from '../types.ts';

const HOW = { 'points-at': 'points at it', contains: 'contains it', name: 'name matches' } as const;

function describe(v: FindRepoResult): string[] {
  const what = `${v.kind} ${JSON.stringify(v.query)}`;
  if (!v.sightings.length) return [`${what}: in none of the snapshots${v.skipped ? ` (${v.skipped.length} not searched: run verify)` : ''}`];
  return [
    `${what}: in ${v.sightings.length} snapshot(s), first ${v.first}, last ${v.last}${v.skipped ? ` (${v.skipped.length} not searched: run verify)` : ''}`,
    ...[...v.sightings].reverse().map((s) => `${s.snapshot}: ${s.refs.map((r) => `${r.ref} ${r.oid.slice(0, 12)} (${HOW[r.match]})`).join(', ')}`),
  ];
}

export const findCommand: Command<FindRepoResult> = {
  name: OPERATIONS.find.name,
  summary: OPERATIONS.find.summary,
  usage: 'find COMMIT|REF|PATTERN [--repo R] [--json]',
  help: `  COMMIT             7 to 64 hex digits: snapshots with a ref that points at it or from which it is reachable
  REF                a ref name, full (refs/heads/x) or short (x): snapshots that had it
  PATTERN            a glob over ref names (feature/*, refs/tags/v1.*, **/wip)`,
  execute: ({ engine, positionals }) => {
    if (positionals.length !== 1) throw new UsageError('find takes exactly one commit, ref name or pattern');
    return OPERATIONS.find.run(engine, parseInput(OPERATIONS.find, { query: positionals[0] }));
  },
  render: (result) => renderOutcomes(result, describe),
};
