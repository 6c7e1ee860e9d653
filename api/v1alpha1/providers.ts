import type { HmacVerifier, PingMatch, SecretVerifier, ValueSource } from './verifier.ts';

// The senders hookgate knows by name: one row of data each. The CRD's enum and rules, the README's
// provider table, examples/providers/ and the ingress (through the Route the operator resolves from
// a row, see resolve.ts) all read these rows; nothing else states a provider's facts.

/**
 * Handshakes a provider performs before (or besides) deliveries, by name. They are answered by the
 * ingress's handshake stage and never start a run.
 */
export const HANDSHAKES = [
  'slack-url-verification', // POST {type: url_verification, challenge}: echo the challenge
  'zoom-url-validation', // POST endpoint.url_validation: {plainToken, encryptedToken}
  'twitch-callback-verification', // POST webhook_callback_verification: the raw challenge
  'meta-verify-token', // GET hub.mode=subscribe&hub.verify_token&hub.challenge
  'dropbox-challenge', // GET ?challenge=
  'okta-verification', // GET X-Okta-Verification-Challenge: {"verification": ...}
  'graph-validation-token', // POST ?validationToken=: echo it, text/plain
  'event-grid-validation', // aeg-event-type: SubscriptionValidation: {"validationResponse": code}
  'cloudevents-options', // OPTIONS WebHook-Request-Origin: WebHook-Allowed-Origin
  'asana-hook-secret', // POST X-Hook-Secret: echo it, and keep it as the signing secret
  'trello-head', // HEAD on creation: 200
] as const;
export type HandshakeName = (typeof HANDSHAKES)[number];

/**
 * How a provider's deliveries prove themselves. `hmac` and `secret` are verifiers of the Route;
 * `bearer` is the trigger's bearer token (`Authorization: Bearer`); `basic`, `url-token` and
 * `body-secret` are credentials for senders that can carry neither a signature nor a header of
 * their own choosing.
 */
export type ProviderAuth =
  | Omit<HmacVerifier, 'replayWindowSeconds'>
  | SecretVerifier
  | { type: 'bearer' }
  | { type: 'basic' }
  | { type: 'url-token' }
  | { type: 'body-secret'; field: string };

export interface Provider {
  /** The preset's name in `spec.auth.provider`. */
  name: string;
  title: string;
  /** The provider's own page on how it signs or authenticates (the source of this row). */
  docs: string;
  auth: ProviderAuth;
  /**
   * Who makes the secret: `provider` shows it in its console (the trigger must reference it with
   * `auth.signature.secretRef`); `hookgate` generates it (or takes a `secretRef`) for you to paste
   * into the provider's settings; `handshake`: the provider sends it in a handshake.
   */
  secret: 'provider' | 'hookgate' | 'handshake';
  /**
   * Generated secrets of this row use only `A-Za-z0-9_-` (`hgs_` + base64url), for providers that
   * refuse other characters (Telegram).
   */
  urlSafeSecret?: true;
  /** Where the provider puts its delivery id (display, and the dedupe key where it is signed). */
  deliveryId?: ValueSource;
  /** Verified deliveries that are pings: answered 200, no run. */
  pings?: PingMatch[];
  handshakes?: HandshakeName[];
  /** What to do on the provider's side: where its settings are, what to paste where. */
  setup: string;
}

const hmac = (v: Omit<HmacVerifier, 'type' | 'replayWindowSeconds'>): ProviderAuth => ({
  type: 'hmac',
  ...v,
});
const body = (
  header: string,
  algorithm: HmacVerifier['algorithm'],
  encoding: HmacVerifier['encoding'],
  prefix?: string,
) =>
  hmac({
    algorithm,
    keyEncoding: 'utf8',
    signature: { headers: [header] },
    ...(prefix ? { prefix } : {}),
    encoding,
    content: '{body}',
  });

const GITHUB_SIGNATURE = body('X-Hub-Signature-256', 'sha256', 'hex', 'sha256=');
const STANDARD_WEBHOOKS = (prefix: 'webhook' | 'svix') =>
  hmac({
    algorithm: 'sha256',
    keyEncoding: 'whsec',
    signature: { headers: [`${prefix}-signature`] },
    list: { separator: ' ', assign: ',', key: 'v1' },
    encoding: 'base64',
    content: '{id}.{timestamp}.{body}',
    timestamp: { source: { header: `${prefix}-timestamp` }, format: 'seconds', toleranceSeconds: 300 },
    id: { header: `${prefix}-id` },
  });

export const PROVIDERS = [
  {
    name: 'github',
    title: 'GitHub',
    docs: 'https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries',
    auth: GITHUB_SIGNATURE,
    secret: 'hookgate',
    deliveryId: { header: 'X-GitHub-Delivery' },
    pings: [{ source: { header: 'X-GitHub-Event' }, values: ['ping'] }],
    setup:
      'Settings → Webhooks → Add webhook: Payload URL = status.url, Content type application/json, Secret = the signingSecret.',
  },
  {
    name: 'stripe',
    title: 'Stripe',
    docs: 'https://docs.stripe.com/webhooks#verify-manually',
    auth: hmac({
      algorithm: 'sha256',
      keyEncoding: 'utf8',
      signature: { headers: ['Stripe-Signature'] },
      list: { separator: ',', assign: '=', key: 'v1' },
      encoding: 'hex',
      content: '{timestamp}.{body}',
      timestamp: { source: { entry: 't' }, format: 'seconds', toleranceSeconds: 300 },
    }),
    secret: 'provider',
    deliveryId: { field: 'id' },
    setup:
      'Developers → Webhooks → Add endpoint: Endpoint URL = status.url; copy its Signing secret (whsec_...) into your Secret.',
  },
  {
    name: 'slack',
    title: 'Slack',
    docs: 'https://api.slack.com/authentication/verifying-requests-from-slack',
    auth: hmac({
      algorithm: 'sha256',
      keyEncoding: 'utf8',
      signature: { headers: ['X-Slack-Signature'] },
      prefix: 'v0=',
      encoding: 'hex',
      content: 'v0:{timestamp}:{body}',
      timestamp: {
        source: { header: 'X-Slack-Request-Timestamp' },
        format: 'seconds',
        toleranceSeconds: 300,
      },
    }),
    secret: 'provider',
    deliveryId: { field: 'event_id' },
    handshakes: ['slack-url-verification'],
    setup:
      'App settings → Basic Information: copy the Signing Secret into your Secret; Event Subscriptions / Interactivity: Request URL = status.url.',
  },
  {
    name: 'standard-webhooks',
    title: 'Standard Webhooks',
    docs: 'https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md',
    auth: STANDARD_WEBHOOKS('webhook'),
    secret: 'hookgate',
    deliveryId: { header: 'webhook-id' },
    setup:
      'Give the sender status.url and the signingSecret (whsec_...), or reference the secret it generated.',
  },
  {
    name: 'svix',
    title: 'Svix (Clerk, Resend, Replicate, Brex, ...)',
    docs: 'https://docs.svix.com/receiving/verifying-payloads/how-manual',
    auth: STANDARD_WEBHOOKS('svix'),
    secret: 'provider',
    deliveryId: { header: 'svix-id' },
    setup:
      "Add an endpoint with URL = status.url in the sender's webhook dashboard; copy its Signing Secret (whsec_...) into your Secret.",
  },
  {
    name: 'pagerduty',
    title: 'PagerDuty (v3 webhooks)',
    docs: 'https://developer.pagerduty.com/docs/webhooks/webhook-signatures/',
    auth: hmac({
      algorithm: 'sha256',
      keyEncoding: 'utf8',
      signature: { headers: ['X-PagerDuty-Signature'] },
      list: { separator: ',', assign: '=', key: 'v1' },
      encoding: 'hex',
      content: '{body}',
    }),
    secret: 'provider',
    deliveryId: { header: 'X-Webhook-Id' },
    setup:
      'Integrations → Generic Webhooks (v3) → New Webhook: Webhook URL = status.url; copy the Secret shown once into your Secret.',
  },
  {
    name: 'alertmanager',
    title: 'Prometheus Alertmanager',
    docs: 'https://prometheus.io/docs/alerting/latest/configuration/#webhook_config',
    auth: { type: 'bearer' },
    secret: 'hookgate',
    setup:
      'webhook_configs: url = status.url, http_config.authorization.credentials_file = a file holding the token (or credentials: the token).',
  },
  {
    name: 'docker-hub',
    title: 'Docker Hub',
    docs: 'https://docs.docker.com/docker-hub/repos/manage/webhooks/',
    auth: { type: 'url-token' },
    secret: 'hookgate',
    setup: 'Repository → Webhooks: Webhook URL = the URL with its token (hookgate url <trigger>).',
  },
  {
    name: 'zoom',
    title: 'Zoom',
    docs: 'https://developers.zoom.us/docs/api/webhooks/#verify-webhook-events',
    auth: hmac({
      algorithm: 'sha256',
      keyEncoding: 'utf8',
      signature: { headers: ['x-zm-signature'] },
      prefix: 'v0=',
      encoding: 'hex',
      content: 'v0:{timestamp}:{body}',
      timestamp: { source: { header: 'x-zm-request-timestamp' }, format: 'seconds', toleranceSeconds: 300 },
    }),
    secret: 'provider',
    handshakes: ['zoom-url-validation'],
    setup:
      'App Marketplace → your app → Features → Access: copy the Secret Token into your Secret; Event Subscriptions: Event notification endpoint URL = status.url, then Validate.',
  },
] as const satisfies readonly Provider[];

export type ProviderName = (typeof PROVIDERS)[number]['name'];
export const PROVIDER_NAMES = PROVIDERS.map((p) => p.name) as [ProviderName, ...ProviderName[]];

export const providerNamed = (name: string): Provider | undefined =>
  (PROVIDERS as readonly Provider[]).find((p) => p.name === name);

/**
 * Senders whose verification is planned (issue 19: public keys and identity tokens); the README's
 * table lists them as coming.
 */
export const COMING = [
  { title: 'Discord', auth: 'Ed25519 over timestamp and body' },
  { title: 'SendGrid Event Webhook', auth: 'ECDSA P-256 over timestamp and body' },
  { title: 'AWS SNS', auth: 'RSA signature with an X.509 certificate from SigningCertURL' },
  { title: 'PayPal', auth: 'SHA256withRSA with a certificate from PAYPAL-CERT-URL' },
  { title: 'Google Pub/Sub push, Eventarc', auth: 'Google-signed OIDC token' },
  { title: 'GitHub Actions (OIDC)', auth: 'OIDC token with repository and ref claims' },
  { title: 'Microsoft Entra (Event Grid, Graph rich notifications)', auth: 'Entra-issued OIDC token' },
] as const;
