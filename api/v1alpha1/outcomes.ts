// What a webhook request ends as: the `error.code` of the ingress's answers, the `outcome` label of
// its metrics, and the keys of a trigger's `status.rejections`. A fixed set, so labels and status
// stay bounded whatever is sent. docs/troubleshooting.md gives each one's cause and fix.
import { HANDSHAKES, type HandshakeName } from './providers.ts';

/** A handshake answered (never a run): one outcome per handshake. */
const HANDSHAKE_OUTCOMES = HANDSHAKES.map((h) => `handshake_${h}` as const) as `handshake_${HandshakeName}`[];

/** Requests that did what the sender asked (or were told nothing needs doing). */
export const SUCCESS_OUTCOMES = [
  'accepted',
  'duplicate',
  'filtered',
  'ping',
  'subscription',
  ...HANDSHAKE_OUTCOMES,
] as const;

/**
 * Requests to a known trigger that started nothing: recorded in the trigger's status. Unknown
 * paths (`not_found`) and flooding addresses (`flooded`) are answered before a trigger is known,
 * and `run_timeout` is a wait-mode answer for a run that did start.
 */
export const REJECTION_OUTCOMES = [
  'method_not_allowed',
  'handshake_refused',
  'suspended',
  'trigger_unavailable',
  'payload_too_large',
  'unsupported_media_type',
  'unauthorized',
  'bad_request',
  'malformed_body',
  'rate_limited',
  'invalid_input',
  'run_active',
  'queue_full',
  'too_many_bodies',
  'overloaded',
  'api_unavailable',
  'deadline_exceeded',
  'sender_unreachable',
  'run_rejected',
  'input_schema_unusable',
  'internal_error',
] as const;

export const OUTCOMES = [
  ...SUCCESS_OUTCOMES,
  ...REJECTION_OUTCOMES,
  'not_found',
  'flooded',
  'run_timeout',
] as const;

export type Outcome = (typeof OUTCOMES)[number];
export type RejectionOutcome = (typeof REJECTION_OUTCOMES)[number];

export const isRejection = (o: Outcome): o is RejectionOutcome =>
  (REJECTION_OUTCOMES as readonly string[]).includes(o);

/**
 * Rejections that a fix of the trigger or its Workflow ends, not the sender: announced with a
 * Warning Event (at a bounded rate) besides the status.
 */
export const CONFIGURATION_OUTCOMES: readonly RejectionOutcome[] = [
  'trigger_unavailable',
  'run_rejected',
  'input_schema_unusable',
  'invalid_input',
];
