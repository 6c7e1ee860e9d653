import type { Route } from '../operator/api/v1alpha1/index.ts';

/** The routing table the ingress serves, kept current from the operator's route Secrets. */
export interface RouteTable {
  /** True once the first full list of routes has been loaded (gates /readyz). */
  readonly ready: boolean;
  match(path: string): Route | undefined;
}

/** A verified, accepted delivery, ready to become a run. */
export interface Delivery {
  route: Route;
  /** From the idempotency source; a random UUID when the sender gives none. */
  deliveryId: string;
  /** Mapped input: `{...defaults, ...payload, _query, _headers}`. */
  input: unknown;
}

export interface LaunchResult {
  /** The Job name. */
  run: string;
  /** True when a Job for this delivery already existed: nothing new was started. */
  duplicate: boolean;
}

export interface RunOutcome {
  run: string;
  result: 'Succeeded' | 'Failed';
  exitCode?: number;
  /** The container's termination message. */
  message?: string;
}

/** `concurrencyPolicy: Forbid` and a run of the workflow is active: answer 409. */
export class RunActiveError extends Error {
  constructor(readonly active: string) {
    super('a run of this workflow is already active');
  }
}

/** The API server could not be reached or answered 5xx: answer 503 with Retry-After. */
export class ApiUnavailableError extends Error {}

/** The mapped input is larger than a Secret can hold: answer 413. */
export class InputTooLargeError extends Error {}

/**
 * The API server rejected the Job as invalid (400/422), e.g. a job template the operator's dry run
 * did not catch or a delivery id that breaks a field: answer 500, the sender cannot fix it.
 */
export class JobRejectedError extends Error {}

export interface Launcher {
  /** Creates the Job and its input Secret; resolves only once both exist in the API server. */
  launch(delivery: Delivery): Promise<LaunchResult>;
  /** Waits for the run to finish; undefined at the timeout. */
  wait(route: Route, run: string, timeoutMs: number): Promise<RunOutcome | undefined>;
}
