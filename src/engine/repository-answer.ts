// GitHub's answer to `GET /repos/O/R` as the identity lookup got it (src/engine/identity.ts), kept for the same
// sync's metadata capture, whose settings kind reads the same record (docs/METADATA_FORMAT.md "How it is captured"):
// one request a day instead of two. Kept per run and per repository, only for a repository whose settings are
// captured, and taken once.
import type { RepositoryRecordAnswer } from '../github/repository.ts';
import type { RepoTarget } from '../types.ts';
import type { EngineContext } from './context.ts';

const answers = new WeakMap<EngineContext, Map<string, RepositoryRecordAnswer>>();

export function keepRepositoryAnswer(ctx: EngineContext, target: RepoTarget, answer: RepositoryRecordAnswer): void {
  let kept = answers.get(ctx);
  if (!kept) answers.set(ctx, (kept = new Map()));
  kept.set(target.id, answer);
}

/** The kept answer, forgotten as it is taken: a later capture in the same run asks for itself. */
export function takeRepositoryAnswer(ctx: EngineContext, target: RepoTarget): RepositoryRecordAnswer | undefined {
  const kept = answers.get(ctx);
  const answer = kept?.get(target.id);
  kept?.delete(target.id);
  return answer;
}
