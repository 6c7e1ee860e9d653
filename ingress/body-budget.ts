import { HttpError, RETRY_AFTER_UNAVAILABLE } from './http/errors.ts';
import type { Exchange } from './http/exchange.ts';

/** Bytes of request bodies the ingress holds at once: per client address, and in all. */
export interface BodyLimits {
  total: number;
  perClient: number;
}

const MiB = 1024 * 1024;

/**
 * 64 MiB in all: a sixth of the chart's 384 Mi limit, far above what honest senders hold (webhook
 * bodies are kilobytes; 64 at the largest `maxBodyBytes` at once). 8 MiB per address: eight
 * largest bodies from one sender at once, so one address cannot take the whole budget.
 */
export const DEFAULT_BODY_LIMITS: BodyLimits = { total: 64 * MiB, perClient: 8 * MiB };

export type Refusal = 'client' | 'total';

/**
 * What bodies in flight cost, reserved before they are read: a sender's declared Content-Length
 * when the request is admitted, a chunked body's bytes as they arrive. A signature is checked over
 * the whole body, so every body is held until it has all arrived; without a bound, hundreds of
 * trickled 1 MiB bodies from one address held hundreds of MiB and never reached a verdict (the
 * client aborts, or the request times out). Over the client's bound the request is refused for that
 * address (429); over the total, for now (503). Reservations end when the answer does, or the
 * connection goes.
 */
export class BodyBudget {
  #total = 0;
  readonly #byClient = new Map<string, number>();

  constructor(readonly limits: BodyLimits = DEFAULT_BODY_LIMITS) {}

  /** Reserves `bytes` for `client`, or says which bound refuses them (and reserves nothing). */
  reserve(client: string, bytes: number): Refusal | undefined {
    const held = this.#byClient.get(client) ?? 0;
    if (held + bytes > this.limits.perClient) return 'client';
    if (this.#total + bytes > this.limits.total) return 'total';
    this.#byClient.set(client, held + bytes);
    this.#total += bytes;
    return undefined;
  }

  release(client: string, bytes: number): void {
    if (bytes <= 0) return;
    const left = (this.#byClient.get(client) ?? 0) - bytes;
    if (left > 0) this.#byClient.set(client, left);
    else this.#byClient.delete(client);
    this.#total = Math.max(0, this.#total - bytes);
  }

  /** Bytes reserved now, in all and by the addresses holding any (for tests and a gauge). */
  get inFlight(): number {
    return this.#total;
  }

  get clients(): number {
    return this.#byClient.size;
  }
}

// The rest of the body is never read: the connection closes after the answer.
const CLOSE = { connection: 'close' };

/**
 * Reserves `bytes` more for the request's body, or throws the answer: 429 when its address holds
 * its share already (an unverified request: it counts towards the flood guard), 503 with
 * Retry-After when the ingress holds its whole budget.
 */
export function reserveBody(bodies: BodyBudget, x: Exchange, client: string, bytes: number): void {
  const refused = bodies.reserve(client, bytes);
  if (refused === 'client') {
    throw new HttpError(429, 'too_many_bodies', 'too many request bodies in flight from this address', {
      ...CLOSE,
      'retry-after': RETRY_AFTER_UNAVAILABLE,
    });
  }
  if (refused === 'total') {
    throw new HttpError(503, 'overloaded', 'too many request bodies in flight; retry later', {
      ...CLOSE,
      'retry-after': RETRY_AFTER_UNAVAILABLE,
    });
  }
  x.reserved = (x.reserved ?? 0) + bytes;
}
