import type { Command } from './command.ts';
import { renderOutcomes } from './render.ts';
import { formatBytes } from '../format.ts';
import { UsageError } from '../errors.ts';
import type { ExportRepoResult } from '../types.ts';

export const exportCommand: Command<ExportRepoResult> = {
  name: 'export',
  summary: 'write a snapshot as a tar.gz archive with a sha256 checksum file',
  usage: 'export [latest|NAME] [--format tar.gz] [--output FILE]',
  help: `  --format tar.gz    archive format (the only one)
  --output FILE      where to write (default archives/<owner>/<repo>/<snapshot>.tar.gz under the root)`,
  options: { format: { type: 'string' }, output: { type: 'string' } },
  execute: ({ engine, values, positionals }) => {
    if (positionals.length > 1) throw new UsageError('export takes at most one snapshot name');
    return engine.exportArchive({ snapshot: positionals[0], format: values.format as 'tar.gz' | undefined, output: values.output as string | undefined });
  },
  render: (result) => renderOutcomes(result, (v) => [`${v.snapshot} -> ${v.archive} (${formatBytes(v.sizeBytes)})`, `sha256 ${v.sha256}`]),
};
