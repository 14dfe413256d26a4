import type { Command } from './command.ts';
import { OPERATIONS } from '../operations/index.ts';
import { renderOutcomes } from './render.ts';
import type { InitRepoResult } from '../types.ts';

export const initCommand: Command<InitRepoResult> = {
  name: OPERATIONS.init.name,
  summary: OPERATIONS.init.summary,
  usage: 'init [--repo R]... [--config FILE]',
  execute: ({ engine }) => OPERATIONS.init.run(engine, {}),
  render: (result) =>
    renderOutcomes(result, (v) => v.skipped ? [`skipped: ${v.skipped}`] : [
      v.created ? `mirror created with ${v.refCount} refs${v.hydrated ? ` from the store's ${v.hydrated.snapshot}, then fetched` : ''}` : `already initialized (${v.refCount} refs), nothing to do`,
      v.mirror,
    ]),
};
