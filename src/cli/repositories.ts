import type { Command } from './command.ts';
import { renderOutcomes } from './render.ts';
import { OPERATIONS } from '../operations/index.ts';
import type { RepositoryEntry } from '../types.ts';

export const repositoriesCommand: Command<RepositoryEntry> = {
  name: OPERATIONS.repositories.name,
  summary: OPERATIONS.repositories.summary,
  usage: 'repositories [--repo R]... [--json]',
  execute: ({ engine }) => OPERATIONS.repositories.run(engine, {}),
  render: (result) => renderOutcomes(result, (v) => [`${v.url || '(no source recorded)'}${v.initialized ? '' : '  (not initialized yet)'}`]),
};
