// How engine phases report progress (src/progress.ts): a no-op unless someone watches, so git runs with --progress
// only then.
import type { Phase, TransferProgress } from '../progress.ts';
import type { RepoTarget } from '../types.ts';
import type { EngineContext } from './context.ts';

export function reportPhase(ctx: EngineContext, target: RepoTarget, phase: Phase, detail?: string): void {
  ctx.progress?.({ type: 'phase', repo: target.id, phase, ...(detail === undefined ? {} : { detail }) });
}

/** The `progress` option of a git transfer for `target` (GitRunOptions), or undefined when nobody watches. */
export function transferReporter(ctx: EngineContext, target: RepoTarget): ((transfer: TransferProgress) => void) | undefined {
  const sink = ctx.progress;
  return sink ? (transfer) => sink({ type: 'transfer', repo: target.id, transfer }) : undefined;
}
