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
    super(message);
  }

  get body() {
    return { error: { code: this.code, message: this.message }, ...this.extra };
  }
}
