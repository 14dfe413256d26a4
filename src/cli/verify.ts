import type { Command } from './command.ts';
import { OPERATIONS, parseInput } from '../operations/index.ts';
import { renderOutcomes } from './render.ts';
import { UsageError } from '../errors.ts';
import type { VerifyRepoResult } from '../types.ts';

export const verifyCommand: Command<VerifyRepoResult> = {
  name: OPERATIONS.verify.name,
  summary: OPERATIONS.verify.summary,
  usage: 'verify [latest|NAME|--all]',
  help: '  --all              verify every snapshot of each repository',
  options: { all: { type: 'boolean' } },
  execute: ({ engine, values, positionals }) => {
    if (positionals.length > 1) throw new UsageError('verify takes at most one snapshot name');
    if (values.all && positionals.length) throw new UsageError('verify: give a snapshot name or --all, not both');
    return OPERATIONS.verify.run(engine, parseInput(OPERATIONS.verify, { all: Boolean(values.all), snapshot: positionals[0] }));
  },
  render: (result) =>
    renderOutcomes(result, (v) => [
      `${v.snapshots.length} snapshot(s) verified`,
      ...v.snapshots.map((s) => `${s.name}: ok (${s.filesChecked} files, git fsck clean)`),
    ]),
};
