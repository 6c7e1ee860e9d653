// What a reconcile that cannot reach Ready says, one type per meaning (controller-runtime's
// TerminalError, source-controller's Stalling and Waiting errors). Any other error is transient: the
// reconciler records it (Reconciling=True, the last Ready verdict kept) and throws it on, and the
// queue retries it with backoff.
import type { Summary } from './conditions.ts';

/**
 * A configuration error only a person can fix: Ready=False, Stalled=True with the reason, and no
 * retry until the object or a dependency changes (the reconcile's result is terminal).
 */
export class StalledError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'StalledError';
  }
}

/**
 * Something else has to happen first (a dependency's first reconcile, garbage collection):
 * Ready=False, Reconciling=True, not Stalled; checked again after `requeueAfter`, or when a watched
 * dependency changes if none is given.
 */
export class WaitingError extends Error {
  constructor(
    readonly reason: string,
    message: string,
    readonly requeueAfter?: number,
  ) {
    super(message);
    this.name = 'WaitingError';
  }
}

/**
 * The object is usable but cannot do its work yet (a trigger whose Workflow or referenced Secret is
 * missing or not ready): it keeps serving, its URL answering 503 with `publicMessage` (no Secret
 * names, no API server text), so senders retry and nothing is lost once it is fixed. `verdict` is
 * what its conditions say.
 */
export class UnavailableError extends Error {
  constructor(
    readonly verdict: StalledError | WaitingError,
    readonly publicMessage: string,
  ) {
    super(verdict.message);
    this.name = 'UnavailableError';
  }

  get reason(): string {
    return this.verdict.reason;
  }
}

/** The conditions and requeue for a reconcile error, or undefined for a transient one. */
export function verdictOf(err: unknown): { summary: Summary; requeueAfter?: number } | undefined {
  const v = err instanceof UnavailableError ? err.verdict : err;
  if (v instanceof StalledError)
    return { summary: { ready: false, reason: v.reason, message: v.message, stalled: true } };
  if (v instanceof WaitingError)
    return {
      summary: { ready: false, reason: v.reason, message: v.message, reconciling: true },
      requeueAfter: v.requeueAfter,
    };
  return undefined;
}
