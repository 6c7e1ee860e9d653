import type { Outcome } from '../metrics.ts';

/**
 * An answer other than success: the status, the `error.code` (also the request's outcome label),
 * a message written by us (never the request's content or a credential), extra headers and extra
 * top-level fields (e.g. the run id of a 504).
 */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: Outcome,
    message: string,
    readonly headers: Record<string, string | number> = {},
    readonly extra: Record<string, unknown> = {},
  ) {
    // These are answers, not faults: a stack trace is never read, and capturing one on every
    // rejected delivery was a measurable share of the rejection path's CPU.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }

  get body() {
    return { error: { code: this.code, message: this.message }, ...this.extra };
  }
}
