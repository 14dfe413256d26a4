// What this process is doing right now, for the one line a stop request prints at once ("stopping after …").
// Process-wide on purpose: a signal is.
const steps = new Map<number, string>();
let nextId = 0;

/** Record a step as under way; call the returned function when it ends. */
export function beginStep(label: string): () => void {
  const id = nextId++;
  steps.set(id, label);
  return () => void steps.delete(id);
}

/** The steps under way, oldest first: "sync acme/widgets: git fetch". */
export function currentSteps(): string[] {
  return [...steps.values()];
}

/** "stopping after sync acme/widgets, git fetch…", or plain "stopping…" when nothing is under way (an idle daemon). */
export function describeStop(): string {
  const labels = currentSteps();
  return labels.length ? `stopping after ${labels.join(', ')}…` : 'stopping…';
}
