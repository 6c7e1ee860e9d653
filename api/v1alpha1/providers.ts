import type { PublicKeyFormat } from './identity.ts';
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
  | { type: 'body-secret'; field: string }
  // Issue 19: senders that share no secret (identity.ts).
  | { type: 'public-key'; format: PublicKeyFormat }
  | { type: 'aws-sns' }
  | { type: 'paypal' }
  | {
      type: 'oidc';
      /** Fixed by the preset (Google, GitHub); absent where each tenant has its own (Entra). */
      issuer?: string;
      /** Where the issuer's keys are when not on its own host (Google). */
      jwksUri?: string;
      /** Claims the trigger must pin (auth.oidc.claims), or any token of the issuer would do. */
      requiredClaims?: string[];
      /** Conditions every token of the preset must meet, besides the trigger's. */
      rules?: { expression: string; message: string }[];
    };

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
  secret: 'provider' | 'hookgate' | 'handshake' | 'none';
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
  {
    name: 'discord',
    title: 'Discord (interactions, webhook events)',
    docs: 'https://discord.com/developers/docs/interactions/overview#setting-up-an-endpoint-validating-security-request-headers',
    auth: { type: 'public-key', format: 'discord' },
    secret: 'none',
    deliveryId: { field: 'id' },
    setup:
      'Developer Portal → your application → General Information: copy the Public Key (hex) into auth.publicKeys; Interactions Endpoint URL = status.url. Its PING is answered {"type":1}; spec.response.body sets the answer to interactions (e.g. {"type":5}).',
  },
  {
    name: 'standard-webhooks-v1a',
    title: 'Standard Webhooks, asymmetric (v1a, Ed25519)',
    docs: 'https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#asymmetric-signatures',
    auth: { type: 'public-key', format: 'standard-webhooks-v1a' },
    secret: 'none',
    deliveryId: { header: 'webhook-id' },
    setup:
      "Copy the sender's public key (whpk_...) into auth.publicKeys and give it status.url; v1 (HMAC) entries beside v1a are ignored.",
  },
  {
    name: 'sendgrid',
    title: 'SendGrid Event Webhook',
    docs: 'https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features',
    auth: { type: 'public-key', format: 'sendgrid' },
    secret: 'none',
    setup:
      'Settings → Mail Settings → Event Webhook: HTTP Post URL = status.url; enable Signed Event Webhook and copy the Verification Key into auth.publicKeys.',
  },
  {
    name: 'aws-sns',
    title: 'AWS SNS (HTTP/S subscriptions: S3, CloudWatch, EventBridge fan-out)',
    docs: 'https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html',
    auth: { type: 'aws-sns' },
    secret: 'none',
    deliveryId: { field: 'MessageId' },
    setup:
      'Subscribe status.url (protocol HTTPS) to the topic and list its ARN in auth.sns.topicArns; hookgate confirms the subscription (status.sns) and never runs a confirmation. Needs egress to sns.<region>.amazonaws.com (chart: networkPolicy.egress).',
  },
  {
    name: 'paypal',
    title: 'PayPal',
    docs: 'https://developer.paypal.com/api/rest/webhooks/rest/#link-selfverificationmethod',
    auth: { type: 'paypal' },
    secret: 'none',
    deliveryId: { field: 'id' },
    setup:
      "Developer Dashboard → your app → Webhooks: Webhook URL = status.url; copy the Webhook ID into auth.paypal.webhookId. Needs egress to api.paypal.com (certificates). The body is covered only by a CRC32: see the README's PayPal note.",
  },
  {
    name: 'google-pubsub',
    title: 'Google Pub/Sub push, Eventarc',
    docs: 'https://cloud.google.com/pubsub/docs/authenticate-push-subscriptions',
    auth: {
      type: 'oidc',
      issuer: 'https://accounts.google.com',
      jwksUri: 'https://www.googleapis.com/oauth2/v3/certs',
      requiredClaims: ['email'],
      rules: [
        { expression: 'claims.email_verified == true', message: 'the service account email is not verified' },
      ],
    },
    secret: 'none',
    deliveryId: { field: 'message.messageId' },
    setup:
      'Push subscription: Endpoint URL = status.url, Enable authentication with a service account; auth.oidc.audiences = its audience (default: the endpoint URL), auth.oidc.claims = [{claim: email, value: <the service account>}].',
  },
  {
    name: 'github-actions-oidc',
    title: 'GitHub Actions (OIDC token)',
    docs: 'https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect',
    auth: {
      type: 'oidc',
      issuer: 'https://token.actions.githubusercontent.com',
      requiredClaims: ['repository'],
    },
    secret: 'none',
    setup:
      'permissions: id-token: write; request a token for your audience (core.getIDToken(aud)) and send it as Authorization: Bearer; auth.oidc.claims pins repository (and ref, workflow as you need).',
  },
  {
    name: 'entra',
    title: 'Microsoft Entra ID (Event Grid, Graph rich notifications)',
    docs: 'https://learn.microsoft.com/en-us/azure/event-grid/secure-webhook-delivery',
    auth: { type: 'oidc', requiredClaims: ['tid'] },
    secret: 'none',
    setup:
      'Event Grid subscription: enable Microsoft Entra authentication with your app registration; auth.oidc.issuer = https://login.microsoftonline.com/<tenant>/v2.0, audiences = the app ID URI, claims = [{claim: tid, value: <tenant id>}].',
  },
] as const satisfies readonly Provider[];

export type ProviderName = (typeof PROVIDERS)[number]['name'];
export const PROVIDER_NAMES = PROVIDERS.map((p) => p.name) as [ProviderName, ...ProviderName[]];

export const providerNamed = (name: string): Provider | undefined =>
  (PROVIDERS as readonly Provider[]).find((p) => p.name === name);

/** Senders whose verification is planned; the README's table lists them as coming. */
export const COMING: readonly { title: string; auth: string }[] = [];
