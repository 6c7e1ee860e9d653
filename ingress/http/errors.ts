import type { Route } from '../../api/v1alpha1/index.ts';
import { InputSchemaError } from '../../lib/input-schema.ts';
import type { Outcome } from '../metrics.ts';
import {
  ApiUnavailableError,
  DeadlineExceededError,
  InputTooLargeError,
  JobRejectedError,
  QueueFullError,
  RunActiveError,
} from '../types.ts';

/** Seconds a sender should wait after a 503 before retrying. */
export const RETRY_AFTER_UNAVAILABLE = 5;
/** After a 503 that needs a person to fix the trigger or its Workflow. */
export const RETRY_AFTER_NOT_RUNNABLE = 60;

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

/** Answered to a bearer-token failure, so senders know a token is what is missing. */
export const BEARER_CHALLENGE = { 'www-authenticate': 'Bearer realm="hookgate"' };
/** Answered to an HTTP Basic failure: clients that send Basic only after a challenge need it. */
export const BASIC_CHALLENGE = { 'www-authenticate': 'Basic realm="hookgate"' };

/** The 401 answer to a failed verification, with the challenge of the trigger's header credential. */
export function unauthorized(auth: Route['auth'], reason: string): HttpError {
  const challenge = auth.tokens ? BEARER_CHALLENGE : auth.basic ? BASIC_CHALLENGE : {};
  return new HttpError(401, 'unauthorized', `verification failed: ${reason}`, challenge);
}

export const tooLarge = (route: Route, headers: Record<string, string> = {}) =>
  new HttpError(
    413,
    'payload_too_large',
    `the body is larger than this trigger accepts (${route.maxBodyBytes} bytes)`,
    headers,
  );

/** 503 for what passes by itself: retried soon. */
const retrySoon = (code: Outcome, message: string) =>
  new HttpError(503, code, message, { 'retry-after': RETRY_AFTER_UNAVAILABLE });
/** 503 for what a person must fix in the trigger or its Workflow: retried later. */
const notRunnable = (code: Outcome, message: string) =>
  new HttpError(503, code, message, { 'retry-after': RETRY_AFTER_NOT_RUNNABLE });

/** Maps anything thrown to an answer whose message is ours, never the error's own text. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof RunActiveError) {
    return new HttpError(
      409,
      'run_active',
      'a run of this workflow is already active',
      {},
      { activeRun: error.active },
    );
  }
  if (error instanceof ApiUnavailableError) {
    return retrySoon('api_unavailable', 'runs cannot be started right now; retry later');
  }
  if (error instanceof DeadlineExceededError) {
    return retrySoon(
      'deadline_exceeded',
      'the run could not be started in time; retry later (a retry of this delivery finds it if it started)',
    );
  }
  if (error instanceof QueueFullError) {
    return retrySoon('queue_full', 'too many deliveries wait for this workflow; retry later');
  }
  if (error instanceof InputTooLargeError) {
    return new HttpError(413, 'payload_too_large', 'the mapped input is larger than a run can carry');
  }
  if (error instanceof JobRejectedError) {
    return notRunnable('run_rejected', 'the cluster refused this run; its owner must fix the workflow');
  }
  if (error instanceof InputSchemaError) {
    return notRunnable('input_schema_unusable', "the workflow's inputSchema cannot be used");
  }
  const status = (error as { statusCode?: unknown }).statusCode;
  if (status === 413) return new HttpError(413, 'payload_too_large', 'the body is too large');
  if (status === 415) return new HttpError(415, 'unsupported_media_type', 'unsupported content type');
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new HttpError(status, 'bad_request', 'the request could not be read');
  }
  return new HttpError(500, 'internal_error', 'internal error');
}
