import type { HandshakeName } from './providers.ts';

/**
 * How a handshake is trusted before the ingress answers it:
 * - `verified`: the trigger's own verification (token, Basic, URL token, signature) must pass, as
 *   for a delivery; the provider signs or authenticates the handshake like its deliveries.
 * - `verifyToken`: the handshake carries a verify token of its own (Meta's `hub.verify_token`),
 *   compared in constant time with the trigger's.
 * - `unsigned`: the provider sends nothing to check; the handshake is answered only because the
 *   trigger declares that provider (and the URL token, where the trigger has one, matches).
 * - `capture`: Asana's trust on first use: the secret it sends becomes the signing secret, once,
 *   while the trigger waits for it.
 */
export type HandshakeTrust = 'verified' | 'verifyToken' | 'unsigned' | 'capture';

export interface HandshakeFacts {
  /** The HTTP method the provider sends it with; other methods than POST reach a trigger only here. */
  method: 'POST' | 'GET' | 'HEAD' | 'OPTIONS';
  trust: HandshakeTrust;
  /** What the provider sends and expects, for `kubectl explain` and the docs. */
  summary: string;
}

/**
 * What each handshake (named in providers.ts) is, for the CRD's docs and the ingress. Provider
 * presets name the ones they use; a trigger may also declare one in `spec.handshakes`. The answers
 * themselves are in ingress/handshakes/.
 */
export const HANDSHAKE_FACTS: Record<HandshakeName, HandshakeFacts> = {
  'slack-url-verification': {
    method: 'POST',
    trust: 'verified',
    summary: 'Slack Events API `url_verification`: the signed `challenge` echoed as JSON',
  },
  'zoom-url-validation': {
    method: 'POST',
    trust: 'verified',
    summary:
      'Zoom `endpoint.url_validation`: `{plainToken, encryptedToken}`, the HMAC-SHA256 of `plainToken` with the signing secret',
  },
  'twitch-callback-verification': {
    method: 'POST',
    trust: 'verified',
    summary: 'Twitch EventSub `webhook_callback_verification`: the signed `challenge` echoed as text',
  },
  'okta-verification': {
    method: 'GET',
    trust: 'verified',
    summary:
      'Okta event hook verification: GET with `X-Okta-Verification-Challenge` (and the hook\'s Authorization header), answered `{"verification": ...}`',
  },
  'event-grid-validation': {
    method: 'POST',
    trust: 'verified',
    summary:
      'Azure Event Grid `SubscriptionValidation` (`aeg-event-type` header): `{"validationResponse": <validationCode>}`',
  },
  'meta-verify-token': {
    method: 'GET',
    trust: 'verifyToken',
    summary:
      "Meta (WhatsApp, Instagram, Messenger) GET `hub.mode=subscribe`: `hub.challenge` echoed when `hub.verify_token` is the trigger's verify token",
  },
  'dropbox-challenge': {
    method: 'GET',
    trust: 'unsigned',
    summary: 'Dropbox GET `?challenge=`: the challenge echoed as text',
  },
  'graph-validation-token': {
    method: 'POST',
    trust: 'unsigned',
    summary: 'Microsoft Graph subscription validation, POST `?validationToken=`: the token echoed as text',
  },
  'cloudevents-options': {
    method: 'OPTIONS',
    trust: 'unsigned',
    summary:
      'CloudEvents webhook abuse protection: OPTIONS with `WebHook-Request-Origin`, allowed by `WebHook-Allowed-Origin` for an origin in `allowedOrigins`',
  },
  'asana-hook-secret': {
    method: 'POST',
    trust: 'capture',
    summary:
      "Asana `X-Hook-Secret`, echoed; the trigger's signing secret is captured from it (trust on first use, once, while status.secretCapture is Waiting)",
  },
  'trello-head': {
    method: 'HEAD',
    trust: 'unsigned',
    summary: 'Trello checks a new callback URL with HEAD: answered 200',
  },
};

/** What the trigger's status.handshakes lists: the handshakes, and a provider's pings (GitHub `ping`). */
export type AnsweredName = HandshakeName | 'ping';

/** The longest value the ingress echoes (challenges, tokens, origins); longer ones are refused (400). */
export const MAX_ECHO_LENGTH = 1024;
