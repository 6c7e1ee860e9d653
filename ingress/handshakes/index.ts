import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import {
  HANDSHAKE_FACTS,
  type HandshakeName,
  type HandshakeTrust,
  MAX_ECHO_LENGTH,
  type Route,
} from '../../api/v1alpha1/index.ts';
import { HttpError } from '../http/errors.ts';
import { fail, OK, secretsEqual, type VerifyResult } from '../verify/common.ts';
import { active } from '../verify/index.ts';

// The handshakes providers make before (or besides) their deliveries, each answered the way its
// provider documents, and never with a run. Which ones a trigger answers, and how each is trusted,
// is data (api/v1alpha1/handshakes.ts); here is only what each looks like on the wire and its answer.

export type RouteHandshake = NonNullable<Route['handshakes']>[number];

/** What is known of a request before its body is read. */
export interface Head {
  method: string;
  headers: IncomingHttpHeaders;
  query: Record<string, unknown>;
}

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body?: string;
}

export interface AnswerContext {
  head: Head;
  route: Route;
  config: RouteHandshake;
  /** The parsed body (a malformed one is answered 400). */
  payload(): unknown;
  /** The current or previous signing secret that verified this request. */
  signingSecret(): Promise<string | undefined>;
  /** Stores a captured secret for the operator to take in; throws an HttpError when it cannot. */
  capture(value: string): Promise<void>;
  /** The methods this trigger accepts (the Allow header). */
  allow: string;
}

interface Shape {
  /** This request is the handshake, judged from the method, headers and query alone. */
  head?(h: Head): boolean;
  /** A POST that looked like a delivery is the handshake after all, judged from its parsed body. */
  body?(payload: unknown): boolean;
  answer(c: AnswerContext): Answer | Promise<Answer>;
}

// Every answer: never sniffed as HTML by a browser, never cached by a proxy.
const SAFE = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' };

const text = (body: string): Answer => ({
  status: 200,
  headers: { ...SAFE, 'content-type': 'text/plain; charset=utf-8' },
  body,
});
const json = (body: object): Answer => ({
  status: 200,
  headers: { ...SAFE, 'content-type': 'application/json; charset=utf-8' },
  body: JSON.stringify(body),
});

/** A value to send back: a non-empty string of at most MAX_ECHO_LENGTH characters, else 400. */
function echo(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ECHO_LENGTH)
    throw new HttpError(
      400,
      'bad_request',
      `the ${what} must be one value of 1 to ${MAX_ECHO_LENGTH} characters`,
    );
  return value;
}

const HEADER_SAFE = /^[\x21-\x7e]+$/;
/** A value to send back in a header: visible ASCII only, so it can never split or corrupt one. */
const headerEcho = (value: unknown, what: string) => {
  const v = echo(value, what);
  if (!HEADER_SAFE.test(v)) throw new HttpError(400, 'bad_request', `the ${what} must be visible ASCII`);
  return v;
};

const headerOf = (h: Head, name: string) => {
  const v = h.headers[name];
  return Array.isArray(v) ? v[0] : v;
};
const field = (o: unknown, key: string): unknown =>
  typeof o === 'object' && o !== null && Object.hasOwn(o, key)
    ? (o as Record<string, unknown>)[key]
    : undefined;

const refused = (message: string) => new HttpError(403, 'handshake_refused', message);

const SHAPES: Record<HandshakeName, Shape> = {
  // https://api.slack.com/events/url_verification
  'slack-url-verification': {
    body: (p) => field(p, 'type') === 'url_verification',
    answer: (c) => json({ challenge: echo(field(c.payload(), 'challenge'), 'challenge') }),
  },
  // https://developers.zoom.us/docs/api/webhooks/#validate-your-webhook-endpoint: the response
  // carries HMAC-SHA256(secret token, plainToken) in hex, within 3 s.
  'zoom-url-validation': {
    body: (p) => field(p, 'event') === 'endpoint.url_validation',
    async answer(c) {
      const plainToken = echo(field(field(c.payload(), 'payload'), 'plainToken'), 'plainToken');
      const secret = await c.signingSecret();
      if (!secret) throw new Error('a verified zoom-url-validation without a signing secret');
      const encryptedToken = createHmac('sha256', secret).update(plainToken).digest('hex');
      return json({ plainToken, encryptedToken });
    },
  },
  // https://dev.twitch.tv/docs/eventsub/handling-webhook-events/#responding-to-a-challenge-request:
  // the raw challenge, text/plain, 200.
  'twitch-callback-verification': {
    head: (h) => headerOf(h, 'twitch-eventsub-message-type') === 'webhook_callback_verification',
    answer: (c) => text(echo(field(c.payload(), 'challenge'), 'challenge')),
  },
  // https://developer.okta.com/docs/concepts/event-hooks/#one-time-verification-request: a GET with
  // the hook's Authorization header, answered {"verification": <X-Okta-Verification-Challenge>}.
  'okta-verification': {
    head: (h) => headerOf(h, 'x-okta-verification-challenge') !== undefined,
    answer: (c) =>
      json({
        verification: echo(headerOf(c.head, 'x-okta-verification-challenge'), 'verification challenge'),
      }),
  },
  // https://learn.microsoft.com/azure/event-grid/webhook-event-delivery: aeg-event-type
  // SubscriptionValidation, an array holding one SubscriptionValidationEvent.
  'event-grid-validation': {
    head: (h) => headerOf(h, 'aeg-event-type') === 'SubscriptionValidation',
    answer(c) {
      const payload = c.payload();
      const events = Array.isArray(payload) ? payload : [payload];
      const event = events.find(
        (e) => field(e, 'eventType') === 'Microsoft.EventGrid.SubscriptionValidationEvent',
      );
      return json({
        validationResponse: echo(field(field(event, 'data'), 'validationCode'), 'validationCode'),
      });
    },
  },
  // https://developers.facebook.com/docs/graph-api/webhooks/getting-started#verification-requests
  'meta-verify-token': {
    head: (h) => h.query['hub.mode'] === 'subscribe',
    answer: (c) => text(echo(c.head.query['hub.challenge'], 'hub.challenge')),
  },
  // https://www.dropbox.com/developers/reference/webhooks#documentation: echo, text/plain, nosniff.
  'dropbox-challenge': {
    head: (h) => h.query.challenge !== undefined,
    answer: (c) => text(echo(c.head.query.challenge, 'challenge')),
  },
  // https://learn.microsoft.com/graph/change-notifications-delivery-webhooks#notificationurl-validation:
  // the decoded validationToken, text/plain, 200, within 10 s.
  'graph-validation-token': {
    head: (h) => h.query.validationToken !== undefined,
    answer: (c) => text(echo(c.head.query.validationToken, 'validationToken')),
  },
  // https://github.com/cloudevents/spec/blob/main/cloudevents/http-webhook.md#4-abuse-protection
  'cloudevents-options': {
    head: (h) => headerOf(h, 'webhook-request-origin') !== undefined,
    answer(c) {
      const origin = headerEcho(headerOf(c.head, 'webhook-request-origin'), 'WebHook-Request-Origin');
      const allowed = c.config.allowedOrigins ?? [];
      if (!allowed.includes('*') && !allowed.some((o) => o.toLowerCase() === origin.toLowerCase()))
        throw refused('this origin may not deliver to this trigger');
      const { requests, periodSeconds } = c.route.rateLimit;
      const rate = c.config.allowedRate ?? Math.max(1, Math.floor((requests * 60) / periodSeconds));
      return {
        status: 200,
        headers: {
          ...SAFE,
          allow: c.allow,
          'webhook-allowed-origin': origin,
          'webhook-allowed-rate': String(rate),
        },
      };
    },
  },
  // https://developers.asana.com/docs/webhooks-guide#the-webhook-handshake: X-Hook-Secret echoed
  // in a 200 or 204; it then signs every delivery (X-Hook-Signature).
  'asana-hook-secret': {
    head: (h) => headerOf(h, 'x-hook-secret') !== undefined,
    async answer(c) {
      const secret = headerEcho(headerOf(c.head, 'x-hook-secret'), 'X-Hook-Secret');
      if (!c.config.waiting)
        throw refused(
          'this trigger already has its secret; annotate it hookgate.io/rotate to accept a new handshake',
        );
      await c.capture(secret);
      return { status: 200, headers: { ...SAFE, 'x-hook-secret': secret } };
    },
  },
  // https://developer.atlassian.com/cloud/trello/guides/rest-api/webhooks/: HEAD on creation, 200.
  'trello-head': {
    head: () => true,
    answer: () => ({ status: 200, headers: { ...SAFE } }),
  },
};

export const trustOf = (config: RouteHandshake): HandshakeTrust => HANDSHAKE_FACTS[config.name].trust;

/** The handshake this request is, from what is known before its body is read. */
export function handshakeOf(route: Route, head: Head): RouteHandshake | undefined {
  return route.handshakes?.find(
    (h) => HANDSHAKE_FACTS[h.name].method === head.method && SHAPES[h.name].head?.(head),
  );
}

/** Whether any handshake of the route is recognised only from the body of a POST. */
export const hasBodyHandshakes = (route: Route) => !!route.handshakes?.some((h) => SHAPES[h.name].body);

/** The handshake a verified POST is after all, from its parsed body. */
export function bodyHandshakeOf(route: Route, payload: unknown): RouteHandshake | undefined {
  return route.handshakes?.find((h) => SHAPES[h.name].body?.(payload));
}

export const answer = (c: AnswerContext) => SHAPES[c.config.name].answer(c);

const METHOD_ORDER = ['POST', 'GET', 'HEAD', 'OPTIONS'];

/** What the trigger accepts: POST and the methods of its handshakes, for the Allow header. */
export function allowedMethods(route: Route): string[] {
  const methods = new Set<string>([
    'POST',
    ...(route.handshakes ?? []).map((h) => HANDSHAKE_FACTS[h.name].method),
  ]);
  return METHOD_ORDER.filter((m) => methods.has(m));
}

/** Meta's `hub.verify_token` against the trigger's verify tokens, in constant time. */
export function checkVerifyToken(config: RouteHandshake, head: Head, now: number): VerifyResult {
  const given = head.query['hub.verify_token'];
  if (typeof given !== 'string' || given === '') return fail('missing_verify_token');
  const tokens = active(config.verifyTokens ?? [], now);
  return tokens.some((t) => secretsEqual(given, t)) ? OK : fail('invalid_verify_token');
}
