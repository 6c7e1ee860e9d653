import type { Route } from '../api/v1alpha1/index.ts';
import type { Delivery as RunDelivery, Termination } from '../lib/run.ts';

export { InputTooLargeError } from '../lib/run.ts';

/** A verified, accepted delivery of a trigger the ingress serves. */
export type Delivery = RunDelivery<Route> & {
  /**
   * A run of this trigger for the same sender id (`deliveryId`, the Job's delivery label) makes
   * this delivery a duplicate, although its key differs: a sender's retry re-signed with a new
   * timestamp. Best effort, from the launcher's Job cache; only where a replay cannot plant the id.
   */
  matchSenderId?: boolean;
};

/** The routing table the ingress serves, kept current from the operator's route Secrets. */
export interface RouteTable {
  /** True once the first full list of routes has been loaded (gates /readyz). */
  readonly ready: boolean;
  match(path: string): Route | undefined;
}

export interface LaunchResult {
  /** The Job name. */
  run: string;
  /** True when a Job for this delivery already existed: nothing new was started. */
  duplicate: boolean;
}

export interface RunOutcome extends Termination {
  run: string;
  result: 'Succeeded' | 'Failed';
}

/** `concurrencyPolicy: Forbid` and a run of the workflow is active: answer 409. */
export class RunActiveError extends Error {
  constructor(readonly active: string) {
    super('a run of this workflow is already active');
  }
}

/** The API server could not be reached or answered 5xx: answer 503 with Retry-After. */
export class ApiUnavailableError extends Error {}

/**
 * The run was not started within the trigger's answer deadline (`response.deadlineSeconds`):
 * answer 503 with Retry-After. The launch goes on; the sender's retry finds the run if it started.
 */
export class DeadlineExceededError extends Error {}

/** Too many Forbid/Replace deliveries of one workflow already wait their turn: answer 503. */
export class QueueFullError extends Error {}

/**
 * The API server refused the run (400/403/422): an admission policy or quota, or a template the
 * operator's dry run passed before something changed. Answered 503: the sender cannot fix it, and
 * its retry may succeed once the Workflow's owner has.
 */
export class JobRejectedError extends Error {}

export interface Launcher {
  /** Creates the Job and its input Secret; resolves only once both exist in the API server. */
  launch(delivery: Delivery): Promise<LaunchResult>;
  /** Waits for the run to finish; undefined at the timeout. */
  wait(route: Route, run: string, timeoutMs: number, signal?: AbortSignal): Promise<RunOutcome | undefined>;
}
