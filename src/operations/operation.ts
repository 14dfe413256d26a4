// What an operation is: the one description of an engine command that every face (CLI, action, MCP) derives from.
import type { z } from 'zod';
import { UsageError } from '../errors.ts';
import type { Engine } from '../engine/api.ts';
import type { RunResult } from '../types.ts';

export interface Operation<N extends string = string, S extends z.ZodType = z.ZodType, T = unknown> {
  /** The engine's command name, also `RunResult.command`: the discriminant every face switches on. */
  name: N;
  summary: string;
  /** What the operation takes besides the repository selection (that belongs to the face: --repo, an input, a parameter). */
  input: S;
  /** Changes nothing under the root or anywhere else. */
  readOnly: boolean;
  /** May replace or remove something that exists (a mirror, a snapshot, a remote's refs). */
  destructive: boolean;
  /** May talk to something outside the root: upstream, GitHub's API, the off-site store, a push target. */
  openWorld: boolean;
  /** Offered by actions/backup as `action: <name>`. */
  action?: boolean;
  /** Offered as a choice when the daily workflow is run by hand. */
  dispatch?: boolean;
  run(engine: Engine, input: z.infer<S>): Promise<RunResult<T, N>>;
}

/** Which faces besides the CLI and MCP offer an operation, kept as literal types so the action's choices are a union. */
export interface Offered {
  action?: true;
  dispatch?: true;
}

/** Keeps each entry's literal name, result type and flags. */
export function defineOperation<const N extends string, S extends z.ZodType, T, const F extends Offered = Offered>(operation: Operation<N, S, T> & F): Operation<N, S, T> & F {
  return operation;
}

/** The engine names its results itself; this checks the name instead of trusting a cast. */
export function named<N extends string, T>(name: N, result: RunResult<T>): RunResult<T, N> {
  if (result.command !== name) throw new Error(`operation ${name} returned the result of ${JSON.stringify(result.command)}`);
  return result as RunResult<T, N>;
}

/** Validates a face's input against the operation's schema: a bad value is a usage error naming the field. */
export function parseInput<S extends z.ZodType>(operation: Operation<string, S>, raw: unknown): z.infer<S> {
  const parsed = operation.input.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new UsageError(`${operation.name}: ${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
}
