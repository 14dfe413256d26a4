import type { Command } from './command.ts';
import { OPERATIONS, parseInput } from '../operations/index.ts';
import { renderOutcomes } from './render.ts';
import { UsageError } from '../errors.ts';
import { formatBytes } from '../format.ts';
import type { RestoreMetadataResult, RestoreRepoResult } from '../types.ts';

function describeRestore(v: RestoreRepoResult): string[] {
  return [
    `${v.dryRun ? 'would restore' : 'restored'} ${v.snapshot.name}${v.fromStore ? ` from ${v.fromStore}` : ''} ${v.mode === 'push' ? 'by push to' : 'to'} ${v.target} (${v.refsRestored} refs${v.download ? `; would download ${v.download.objects} object(s), ${formatBytes(v.download.bytes)}` : ''})`,
    ...(v.keptAs
      ? [`the replaced mirror is kept as pinned snapshot ${v.keptAs.snapshot} (${v.keptAs.reason}); "unpin ${v.keptAs.snapshot}" hands it to retention`]
      : v.keptPrevious
        ? [`previous content kept at ${v.keptPrevious}`]
        : []),
    // A restored copy has no remote, so no push from it reaches the original by accident (docs/RESTORE_RUNBOOK.md).
    ...(v.mode !== 'push' && v.remote === null ? [`no remote is configured in it, so git push goes nowhere; to push on purpose: git remote add origin ${v.sourceUrl}`] : []),
  ];
}

function describeMetadataRestore(v: RestoreMetadataResult): string[] {
  const c = v.created;
  const notRestored = v.notRestored.map((n) => `not restored: ${n.what}: ${n.reason}`);
  const fellBack = v.fellBack.map((f) => `not on its line: ${f.what}: ${f.reason}`);
  if (v.dryRun) {
    return [`would recreate in ${v.metadataTarget} from ${v.snapshot}: ${v.planned.length} step(s)${v.alreadyDone ? ` (${v.alreadyDone} already done)` : ''}`, ...v.planned.map((p) => `would create ${p}`), ...notRestored, ...fellBack];
  }
  return [
    `recreated in ${v.metadataTarget} from ${v.snapshot}: ${c.labels} label(s), ${c.milestones} milestone(s), ${c.issues} issue(s), ${c.pulls} pull request(s) and ${c.pullsAsIssues} as issues, ${c.comments} comment(s), ${c.closed} closed, ${c.locked} locked, ${c.releases} release(s), ${c.assets} asset(s)`,
    `  reviews: ${c.reviews} with ${c.reviewComments} comment(s) on the diff, ${c.reviewsAsComments} review(s) and ${c.threadsAsComments} thread(s) as comments; ${c.commitComments} commit comment(s)`,
    ...(v.alreadyDone ? [`${v.alreadyDone} step(s) already done by an earlier run (${v.journal}): not repeated`] : []),
    ...notRestored,
    ...fellBack,
  ];
}

export const restoreCommand: Command<RestoreRepoResult | RestoreMetadataResult> = {
  name: OPERATIONS.restore.name,
  summary: OPERATIONS.restore.summary,
  usage: 'restore [latest|NAME] [--to DIR [--checkout]] [--push URL] [--from-archive FILE | --from-store] [--verify full] [--force] [--dry-run] | restore [latest|NAME] --metadata-to OWNER/NAME [--force] [--dry-run]',
  help: `  (no target)        replace the live mirror atomically; the old one is kept as a pinned snapshot
                     ("replaced by restore of NAME") until unpinned
  --to DIR           restore into DIR as a bare repository with every ref and no remote (must be empty or
                     absent unless --force)
  --checkout         with --to: a work tree with HEAD checked out, every ref (notes included), no remote
  --push URL         push every branch, tag and note to a new, empty remote (token from GITHUB_TOKEN)
  --from-archive F   restore from an archive written by "export" (checksum and contents verified first)
  --from-store       restore from the configured off-site store (NAME as it is in the store; every file's
                     sha256 checked, then verified like a local snapshot); works on an empty root with --repo
  --metadata-to O/N  recreate the snapshot's labels, milestones, issues (with comments, closed ones closed),
                     pull requests (as pull requests when their branches exist there, with their reviews on the
                     lines of the diff; else as issues, with their reviews quoted in comments), releases (with
                     assets) and commit comments in the empty GitHub repository O/N; each carries a header naming
                     its original author (without a mention), date and number. Resumable: a journal under
                     state/metadata-restore/ means a second run creates nothing twice (token from GITHUB_TOKEN)
  --verify MODE      how the result is checked before it is swapped in: connectivity (default: every file
                     against its recorded sha256, then git fsck --connectivity-only) or full (a full git fsck,
                     which re-hashes every object: minutes on a large repository)
  --force            replace a non-empty --to directory (kept as DIR.replaced-<time>) or push to a non-empty remote;
                     with --metadata-to, add the records to a repository that has issues of its own
  --dry-run          say what would be restored (or created in GitHub), change nothing`,
  options: {
    to: { type: 'string' },
    checkout: { type: 'boolean' },
    push: { type: 'string' },
    'from-archive': { type: 'string' },
    'from-store': { type: 'boolean' },
    force: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    'metadata-to': { type: 'string' },
    verify: { type: 'string' },
  },
  execute: ({ engine, values, positionals }) => {
    if (positionals.length > 1) throw new UsageError('restore takes at most one snapshot name');
    if (values.to && values.push) throw new UsageError('restore: --to and --push cannot be combined');
    if (values['from-archive'] && positionals.length) throw new UsageError('restore: --from-archive restores the snapshot inside the archive; do not name one');
    return OPERATIONS.restore.run(engine, parseInput(OPERATIONS.restore, {
      snapshot: positionals[0],
      to: values.to as string | undefined,
      checkout: Boolean(values.checkout),
      push: values.push as string | undefined,
      fromArchive: values['from-archive'] as string | undefined,
      fromStore: Boolean(values['from-store']),
      force: Boolean(values.force),
      dryRun: Boolean(values['dry-run']),
      metadataTo: values['metadata-to'] as string | undefined,
      verify: values.verify as string | undefined,
    }));
  },
  render: (result) => renderOutcomes(result, (v) => ('metadataTarget' in v ? describeMetadataRestore(v) : describeRestore(v))),
};
