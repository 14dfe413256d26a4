import type { Command } from './command.ts';
import { renderOutcomes } from './render.ts';
import { UsageError } from '../errors.ts';
import { OPERATIONS, parseInput } from '../operations/index.ts';
import type { DiffRepoResult } from '../types.ts';

const short = (oid: string) => oid.slice(0, 12);

function describe(v: DiffRepoResult): string[] {
  return [
    `${v.from} -> ${v.to}: ${v.added.length} added, ${v.deleted.length} deleted, ${v.moved.length} moved, ${v.forceMoved.length} force-moved, ${v.unchanged} unchanged`,
    ...v.added.map((r) => `+ ${r.ref}  ${short(r.to)}`),
    ...v.deleted.map((r) => `- ${r.ref}  was ${short(r.from)}`),
    ...v.moved.map((r) => `> ${r.ref}  ${short(r.from)}..${short(r.to)}`),
    ...v.forceMoved.map((r) => `! ${r.ref}  ${short(r.from)}...${short(r.to)} (force-moved: ${short(r.from)} is not in the new history)`),
  ];
}

export const diffCommand: Command<DiffRepoResult> = {
  name: OPERATIONS.diff.name,
  summary: OPERATIONS.diff.summary,
  usage: 'diff A [B] [--repo R] [--json]',
  help: `  A, B               "latest", a snapshot name, or "mirror" (B defaults to mirror)
  lines: + added, - deleted, > moved (fast-forward), ! force-moved (history rewritten)`,
  execute: ({ engine, positionals }) => {
    if (positionals.length < 1 || positionals.length > 2) throw new UsageError('diff takes one or two of: latest, a snapshot name, mirror');
    return OPERATIONS.diff.run(engine, parseInput(OPERATIONS.diff, { from: positionals[0], to: positionals[1] }));
  },
  render: (result) => renderOutcomes(result, describe),
};
