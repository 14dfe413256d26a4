// Which GitHub App installation a run uses when none is named: the one on the configured owner. Pure. An
// installation token reaches one account's repositories, and git gets one token per host, so a run covers one owner.
import { UsageError } from '../errors.ts';
import type { RepoEntry } from '../config.ts';
import { parseRepoSpec } from '../targets.ts';

/** What GitHub is asked for the installation: a repository's (GET /repos/o/r/installation) or an account's. */
export type InstallationLookup = { kind: 'repo'; owner: string; name: string } | { kind: 'owner'; owner: string };

export function installationLookup(entries: readonly RepoEntry[], serverUrl: string): InstallationLookup {
  const lookups: InstallationLookup[] = entries.map((entry) => {
    if (typeof entry !== 'string' && 'owner' in entry) return { kind: 'owner', owner: entry.owner };
    const spec = typeof entry === 'string' ? entry : entry.repo;
    const target = parseRepoSpec(spec, serverUrl);
    return { kind: 'repo', owner: target.owner, name: target.name };
  });
  const owners = [...new Set(lookups.map((l) => l.owner.toLowerCase()))];
  if (owners.length === 0) throw new UsageError('GitHub App authentication: no repository is configured to find the installation from; set GITHUB_APP_INSTALLATION_ID');
  if (owners.length > 1) {
    throw new UsageError(
      `GitHub App authentication uses one installation per run, and repositories of ${owners.length} owners are selected (${owners.join(', ')}): ` +
        'run one job per owner (docs/GITHUB_ACTIONS.md), or name the installation with GITHUB_APP_INSTALLATION_ID',
    );
  }
  // An account's own endpoint answers for an organization or a user; a repository's needs nothing more.
  return lookups.find((l) => l.kind === 'owner') ?? lookups[0]!;
}
