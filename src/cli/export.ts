import type { Command } from './command.ts';
import { OPERATIONS, parseInput } from '../operations/index.ts';
import { renderOutcomes } from './render.ts';
import { formatBytes } from '../format.ts';
import { UsageError } from '../errors.ts';
import type { ExportRepoResult, ExportSiteResult } from '../types.ts';

function describeArchive(v: ExportRepoResult): string[] {
  return [`${v.snapshot.name} -> ${v.archive} (${formatBytes(v.sizeBytes)}${v.alreadyExported ? ', already exported: its checksum verifies' : ''})`, `sha256 ${v.sha256}`];
}

function describeSite(v: ExportSiteResult): string[] {
  const { counts, assets } = v;
  return [
    `${v.snapshot.name} metadata -> ${v.site}/index.html (${counts.issues} issue(s), ${counts.pulls} pull request(s), ${counts.releases} release(s), ${assets.files} asset file(s), ${formatBytes(assets.bytes)})`,
    ...v.assetsMissing.map((m) => `${m.release}: ${m.asset} is not in the site: ${m.reason}`),
    ...(v.keptPrevious ? [`what was in ${v.site} is kept at ${v.keptPrevious}`] : []),
  ];
}

export const exportCommand: Command<ExportRepoResult | ExportSiteResult> = {
  name: OPERATIONS.export.name,
  summary: OPERATIONS.export.summary,
  usage: 'export [latest|NAME] [--format tar.gz] [--output FILE] [--force] | export [latest|NAME] --metadata [--output DIR] [--force]',
  help: `  --format tar.gz    archive format (the only one)
  --output FILE      where to write (default archives/<owner>/<repo>/<snapshot>.tar.gz under the root)
                     An archive already there whose .sha256 verifies is kept as it is (exit 0).
  --force            replace an archive there that does not verify (the old one is kept beside it)
  --metadata         write the snapshot's issues, pull requests and releases as a static HTML site instead
                     (no JavaScript; open DIR/index.html offline). --output DIR defaults to
                     archives/<owner>/<repo>/<snapshot>.metadata; an earlier site there is replaced, any other
                     non-empty directory needs --force and is kept beside`,
  options: { format: { type: 'string' }, output: { type: 'string' }, force: { type: 'boolean' }, metadata: { type: 'boolean' } },
  execute: ({ engine, values, positionals }) => {
    if (positionals.length > 1) throw new UsageError('export takes at most one snapshot name');
    return OPERATIONS.export.run(
      engine,
      parseInput(OPERATIONS.export, { snapshot: positionals[0], format: values.format, output: values.output, force: Boolean(values.force), metadata: values.metadata ? true : undefined }),
    );
  },
  render: (result) => renderOutcomes(result, (v) => ('site' in v ? describeSite(v) : describeArchive(v))),
};
