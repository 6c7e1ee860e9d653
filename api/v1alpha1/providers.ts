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
/** An HMAC of the raw body in one header, the most common shape. */
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
const seconds = (source: ValueSource | { entry: string }, toleranceSeconds = 300) => ({
  source,
  format: 'seconds' as const,
  toleranceSeconds,
});
const STANDARD_WEBHOOKS = (prefix: 'webhook' | 'svix') =>
  hmac({
    algorithm: 'sha256',
    keyEncoding: 'whsec',
    signature: { headers: [`${prefix}-signature`] },
    list: { separator: ' ', assign: ',', key: 'v1' },
    encoding: 'base64',
    content: '{id}.{timestamp}.{body}',
    timestamp: seconds({ header: `${prefix}-timestamp` }),
    id: { header: `${prefix}-id` },
  });
const V0 = (signature: string, timestamp: string) =>
  hmac({
    algorithm: 'sha256',
    keyEncoding: 'utf8',
    signature: { headers: [signature] },
    prefix: 'v0=',
    encoding: 'hex',
    content: 'v0:{timestamp}:{body}',
    timestamp: seconds({ header: timestamp }),
  });
const PASTE = 'the signingSecret';
const TOKEN = 'the token';

export const PROVIDERS = [
  // Source control
  {
    name: 'github',
    title: 'GitHub',
    docs: 'https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries',
    auth: body('X-Hub-Signature-256', 'sha256', 'hex', 'sha256='),
    secret: 'hookgate',
    deliveryId: { header: 'X-GitHub-Delivery' },
    pings: [{ source: { header: 'X-GitHub-Event' }, values: ['ping'] }],
    setup: `Settings → Webhooks → Add webhook: Payload URL = status.url, Content type application/json, Secret = ${PASTE}.`,
  },
  {
    name: 'gitea',
    title: 'Gitea',
    docs: 'https://docs.gitea.com/usage/webhooks',
    auth: body('X-Gitea-Signature', 'sha256', 'hex'),
    secret: 'hookgate',
    deliveryId: { header: 'X-Gitea-Delivery' },
    pings: [{ source: { header: 'X-Gitea-Event' }, values: ['ping'] }],
    setup: `Settings → Webhooks → Add Webhook → Gitea: Target URL = status.url, HTTP method POST, POST content type application/json, Secret = ${PASTE}.`,
  },
  {
    name: 'forgejo',
    title: 'Forgejo (Codeberg)',
    docs: 'https://forgejo.org/docs/latest/user/webhooks/',
    auth: body('X-Forgejo-Signature', 'sha256', 'hex'),
    secret: 'hookgate',
    deliveryId: { header: 'X-Forgejo-Delivery' },
    pings: [{ source: { header: 'X-Forgejo-Event' }, values: ['ping'] }],
    setup: `Settings → Webhooks → Add webhook → Forgejo: Target URL = status.url, POST, application/json, Secret = ${PASTE}.`,
  },
  {
    name: 'gitlab',
    title: 'GitLab',
    docs: 'https://docs.gitlab.com/user/project/integrations/webhooks/#validate-requests-with-a-secret-token',
    auth: { type: 'secret', header: 'X-Gitlab-Token' },
    secret: 'hookgate',
    deliveryId: { header: 'Idempotency-Key' },
    setup: `Settings → Webhooks → Add new webhook: URL = status.url, Secret token = ${PASTE}. (A GitLab signing token is Standard Webhooks: use provider standard-webhooks.)`,
  },
  {
    name: 'bitbucket',
    title: 'Bitbucket Cloud',
    docs: 'https://support.atlassian.com/bitbucket-cloud/docs/manage-webhooks/#Secure-webhooks',
    auth: body('X-Hub-Signature', 'sha256', 'hex', 'sha256='),
    secret: 'hookgate',
    deliveryId: { header: 'X-Request-UUID' },
    setup: `Repository settings → Webhooks → Add webhook: URL = status.url, Secret = ${PASTE}.`,
  },
  {
    name: 'bitbucket-server',
    title: 'Bitbucket Data Center / Server',
    docs: 'https://confluence.atlassian.com/bitbucketserver/manage-webhooks-938025878.html',
    auth: body('X-Hub-Signature', 'sha256', 'hex', 'sha256='),
    secret: 'hookgate',
    deliveryId: { header: 'X-Request-Id' },
    pings: [{ source: { header: 'X-Event-Key' }, values: ['diagnostics:ping'] }],
    setup: `Repository settings → Webhooks → Create webhook: URL = status.url, Secret = ${PASTE} ("Test connection" sends a ping, answered without a run).`,
  },
  {
    name: 'jira',
    title: 'Jira Cloud (admin webhooks)',
    docs: 'https://developer.atlassian.com/cloud/jira/platform/webhooks/#secure-admin-webhooks',
    auth: body('X-Hub-Signature', 'sha256', 'hex', 'sha256='),
    secret: 'hookgate',
    deliveryId: { header: 'X-Atlassian-Webhook-Identifier' },
    setup: `System → WebHooks → Create a WebHook: URL = status.url, Secret = ${PASTE}.`,
  },
  // Chat and collaboration
  {
    name: 'slack',
    title: 'Slack',
    docs: 'https://api.slack.com/authentication/verifying-requests-from-slack',
    auth: V0('X-Slack-Signature', 'X-Slack-Request-Timestamp'),
    secret: 'provider',
    deliveryId: { field: 'event_id' },
    handshakes: ['slack-url-verification'],
    setup:
      'App settings → Basic Information: copy the Signing Secret into your Secret; Event Subscriptions (or Interactivity, Slash Commands): Request URL = status.url.',
  },
  {
    name: 'zoom',
    title: 'Zoom',
    docs: 'https://developers.zoom.us/docs/api/webhooks/#verify-webhook-events',
    auth: V0('x-zm-signature', 'x-zm-request-timestamp'),
    secret: 'provider',
    handshakes: ['zoom-url-validation'],
    setup:
      'App Marketplace → your app → Features → Access: copy the Secret Token into your Secret; Event Subscriptions: Event notification endpoint URL = status.url, then Validate.',
  },
  {
    name: 'twitch',
    title: 'Twitch EventSub',
    docs: 'https://dev.twitch.tv/docs/eventsub/handling-webhook-events/#verifying-the-event-message',
    auth: hmac({
      algorithm: 'sha256',
      keyEncoding: 'utf8',
      signature: { headers: ['Twitch-Eventsub-Message-Signature'] },
      prefix: 'sha256=',
      encoding: 'hex',
      content: '{id}{timestamp}{body}',
      timestamp: {
        source: { header: 'Twitch-Eventsub-Message-Timestamp' },
        format: 'rfc3339',
        toleranceSeconds: 600,
      },
      id: { header: 'Twitch-Eventsub-Message-Id' },
    }),
    secret: 'hookgate',
    deliveryId: { header: 'Twitch-Eventsub-Message-Id' },
    handshakes: ['twitch-callback-verification'],
    setup: `Create the subscription (POST /helix/eventsub/subscriptions) with transport {method: webhook, callback: status.url, secret: ${PASTE}}.`,
  },
  {
    name: 'teams',
    title: 'Microsoft Teams (outgoing webhook)',
    docs: 'https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/add-outgoing-webhook#2-create-a-method-to-verify-the-outgoing-webhook-hmac-token',
    auth: hmac({
      algorithm: 'sha256',
      keyEncoding: 'base64',
      signature: { headers: ['Authorization'] },
      prefix: 'HMAC ',
      encoding: 'base64',
      content: '{body}',
    }),
    secret: 'provider',
    deliveryId: { field: 'id' },
    setup:
      'Team → Manage team → Apps → Create an outgoing webhook: Callback URL = status.url; copy the security token Teams shows into your Secret.',
  },
  {
    name: 'microsoft-graph',
    title: 'Microsoft Graph change notifications',
    docs: 'https://learn.microsoft.com/en-us/graph/change-notifications-delivery-webhooks',
    auth: { type: 'body-secret', field: 'value.*.clientState' },
    secret: 'hookgate',
    handshakes: ['graph-validation-token'],
    setup:
      'Create the subscription (POST /subscriptions) with notificationUrl = status.url and clientState = the bodySecret.',
  },
  {
    name: 'azure-event-grid',
    title: 'Azure Event Grid (webhook, Event Grid schema)',
    docs: 'https://learn.microsoft.com/en-us/azure/event-grid/delivery-properties',
    auth: { type: 'bearer' },
    secret: 'hookgate',
    deliveryId: { field: '0.id' },
    handshakes: ['event-grid-validation'],
    setup: `Event subscription → Endpoint type Web Hook, endpoint = status.url; Additional features → Delivery properties: header Authorization, value "Bearer " + ${TOKEN}, marked secret.`,
  },
  {
    name: 'cloudevents',
    title: 'CloudEvents webhooks (Knative, Event Grid CloudEvents schema, ...)',
    docs: 'https://github.com/cloudevents/spec/blob/main/cloudevents/http-webhook.md',
    auth: { type: 'bearer' },
    secret: 'hookgate',
    deliveryId: { header: 'ce-id' },
    handshakes: ['cloudevents-options'],
    setup: `Point the sender at status.url with the header Authorization: Bearer ${TOKEN} (CloudEvents webhook spec §3).`,
  },
  {
    name: 'meta',
    title: 'Meta (WhatsApp, Instagram, Messenger)',
    docs: 'https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads',
    auth: body('X-Hub-Signature-256', 'sha256', 'hex', 'sha256='),
    secret: 'provider',
    handshakes: ['meta-verify-token'],
    setup:
      'App Dashboard → Webhooks (or WhatsApp → Configuration): Callback URL = status.url, Verify token = the verifyToken; copy the App Secret (App settings → Basic) into your Secret.',
  },
  {
    name: 'dropbox',
    title: 'Dropbox',
    docs: 'https://www.dropbox.com/developers/reference/webhooks#notifications',
    auth: body('X-Dropbox-Signature', 'sha256', 'hex'),
    secret: 'provider',
    handshakes: ['dropbox-challenge'],
    setup: 'App Console → your app → Webhooks: add status.url; copy the App secret into your Secret.',
  },
  {
    name: 'box',
    title: 'Box (webhooks v2)',
    docs: 'https://developer.box.com/guides/webhooks/v2/signatures-v2/',
    auth: hmac({
      algorithm: 'sha256',
      keyEncoding: 'utf8',
      signature: { headers: ['BOX-SIGNATURE-PRIMARY', 'BOX-SIGNATURE-SECONDARY'] },
      encoding: 'base64',
      content: '{body}{timestamp}',
      timestamp: { source: { header: 'BOX-DELIVERY-TIMESTAMP' }, format: 'rfc3339', toleranceSeconds: 600 },
    }),
    secret: 'provider',
    deliveryId: { field: 'id' },
    setup:
      'Developer Console → your app → Webhooks: create a webhook with Address = status.url; Manage signature keys: copy the primary key into your Secret (either key verifies; put the new one in your Secret when Box rotates).',
  },
  {
    name: 'okta',
    title: 'Okta event hooks',
    docs: 'https://developer.okta.com/docs/concepts/event-hooks/',
    auth: { type: 'secret', header: 'Authorization' },
    secret: 'hookgate',
    deliveryId: { field: 'eventId' },
    handshakes: ['okta-verification'],
    setup: `Workflow → Event Hooks → Create: URL = status.url, Authentication field = Authorization, Authentication secret = ${PASTE}; then Verify.`,
  },
  {
    name: 'asana',
    title: 'Asana',
    docs: 'https://developers.asana.com/docs/webhooks-guide#security',
    auth: body('X-Hook-Signature', 'sha256', 'hex'),
    secret: 'handshake',
    handshakes: ['asana-hook-secret'],
    setup:
      'Create the webhook (POST /webhooks, target = status.url); the X-Hook-Secret of its handshake becomes the signing secret.',
  },
  {
    name: 'trello',
    title: 'Trello',
    docs: 'https://developer.atlassian.com/cloud/trello/guides/rest-api/webhooks/#webhook-signatures',
    auth: hmac({
      algorithm: 'sha1',
      keyEncoding: 'utf8',
      signature: { headers: ['X-Trello-Webhook'] },
      encoding: 'base64',
      content: '{body}{url}',
    }),
    secret: 'provider',
    deliveryId: { field: 'action.id' },
    handshakes: ['trello-head'],
    setup:
      "Create the webhook (POST /1/webhooks, callbackURL = status.url exactly); copy your app's Secret (trello.com/power-ups/admin → API key → Secret) into your Secret.",
  },
  // Payments and commerce
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
      timestamp: seconds({ entry: 't' }),
    }),
    secret: 'provider',
    deliveryId: { field: 'id' },
    setup:
      'Developers → Webhooks → Add endpoint: Endpoint URL = status.url; copy its Signing secret (whsec_...) into your Secret.',
  },
  {
    name: 'shopify',
    title: 'Shopify',
    docs: 'https://shopify.dev/docs/apps/build/webhooks/subscribe/https#step-5-verify-the-webhook',
    auth: body('X-Shopify-Hmac-Sha256', 'sha256', 'base64'),
    secret: 'provider',
    deliveryId: { header: 'X-Shopify-Webhook-Id' },
    setup:
      "App configuration (shopify.app.toml) webhook subscription uri = status.url; copy the app's Client secret (Partner Dashboard → API credentials) into your Secret.",
  },
  {
    name: 'square',
    title: 'Square',
    docs: 'https://developer.squareup.com/docs/webhooks/step3validate',
    auth: hmac({
      algorithm: 'sha256',
      keyEncoding: 'utf8',
      signature: { headers: ['x-square-hmacsha256-signature'] },
      encoding: 'base64',
      content: '{url}{body}',
    }),
    secret: 'provider',
    deliveryId: { field: 'event_id' },
    setup:
      'Developer Console → your app → Webhooks → Add subscription: Notification URL = status.url exactly; copy its Signature key into your Secret.',
  },
  {
    name: 'paddle',
    title: 'Paddle Billing',
    docs: 'https://developer.paddle.com/webhooks/signature-verification',
    auth: hmac({
      algorithm: 'sha256',
      keyEncoding: 'utf8',
      signature: { headers: ['Paddle-Signature'] },
      list: { separator: ';', assign: '=', key: 'h1' },
      encoding: 'hex',
      content: '{timestamp}:{body}',
      timestamp: seconds({ entry: 'ts' }),
    }),
    secret: 'provider',
    deliveryId: { field: 'event_id' },
    setup:
      'Developer Tools → Notifications → New destination: URL = status.url; copy its Secret key (pdl_ntfset_...) into your Secret.',
  },
  {
    name: 'twilio',
    title: 'Twilio (Messaging, Voice)',
    docs: 'https://www.twilio.com/docs/usage/webhooks/webhooks-security#validating-signatures-from-twilio',
    auth: hmac({
      algorithm: 'sha1',
      keyEncoding: 'utf8',
      signature: { headers: ['X-Twilio-Signature'] },
      encoding: 'base64',
      content: '{url}{form}',
    }),
    secret: 'provider',
    deliveryId: { header: 'I-Twilio-Idempotency-Token' },
    setup:
      'Phone Numbers → your number → "A message comes in" (or "A call comes in"): Webhook = status.url, HTTP POST; copy the Auth Token (Console → Account Info) into your Secret.',
  },
  {
    name: 'mailgun',
    title: 'Mailgun',
    docs: 'https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks',
    auth: hmac({
      algorithm: 'sha256',
      keyEncoding: 'utf8',
      signature: { field: 'signature.signature' },
      encoding: 'hex',
      content: '{timestamp}{field:signature.token}',
      timestamp: seconds({ field: 'signature.timestamp' }),
    }),
    secret: 'provider',
    deliveryId: { field: 'event-data.id' },
    setup:
      'Sending → Webhooks → Add webhook: URL = status.url; copy the HTTP webhook signing key (Webhooks page) into your Secret.',
  },
  {
    name: 'postmark',
    title: 'Postmark',
    docs: 'https://postmarkapp.com/developer/webhooks/webhooks-overview#protecting-your-webhook',
    auth: { type: 'bearer' },
    secret: 'hookgate',
    deliveryId: { field: 'MessageID' },
    setup: `Servers → your server → Webhooks → Add webhook: URL = status.url; Custom headers: Authorization = "Bearer " + ${TOKEN}.`,
  },
  // SaaS
  {
    name: 'hubspot',
    title: 'HubSpot (signature v3)',
    docs: 'https://developers.hubspot.com/docs/guides/apps/authentication/validating-requests#validate-requests-using-the-v3-request-signature',
    auth: hmac({
      algorithm: 'sha256',
      keyEncoding: 'utf8',
      signature: { headers: ['X-HubSpot-Signature-v3'] },
      encoding: 'base64',
      content: '{method}{url}{body}{timestamp}',
      timestamp: {
        source: { header: 'X-HubSpot-Request-Timestamp' },
        format: 'milliseconds',
        toleranceSeconds: 300,
      },
    }),
    secret: 'provider',
    deliveryId: { field: '0.eventId' },
    setup:
      "Developer account → your app → Webhooks: Target URL = status.url exactly; copy the app's Client secret (Auth tab) into your Secret.",
  },
  {
    name: 'intercom',
    title: 'Intercom',
    docs: 'https://developers.intercom.com/docs/references/webhooks/webhook-models#signed-notifications',
    auth: body('X-Hub-Signature', 'sha1', 'hex', 'sha1='),
    secret: 'provider',
    deliveryId: { field: 'id' },
    pings: [{ source: { field: 'topic' }, values: ['ping'] }],
    setup:
      "Developer Hub → your app → Webhooks: Endpoint URL = status.url; copy the app's client_secret (Basic information) into your Secret.",
  },
  {
    name: 'typeform',
    title: 'Typeform',
    docs: 'https://www.typeform.com/developers/webhooks/secure-your-webhooks/',
    auth: body('Typeform-Signature', 'sha256', 'base64', 'sha256='),
    secret: 'hookgate',
    deliveryId: { field: 'event_id' },
    setup: `Form → Connect → Webhooks → Add a webhook: Endpoint = status.url; Edit → Secret = ${PASTE}.`,
  },
  {
    name: 'calendly',
    title: 'Calendly',
    docs: 'https://developer.calendly.com/api-docs/4c305798a61d3-webhook-signatures',
    auth: hmac({
      algorithm: 'sha256',
      keyEncoding: 'utf8',
      signature: { headers: ['Calendly-Webhook-Signature'] },
      list: { separator: ',', assign: '=', key: 'v1' },
      encoding: 'hex',
      content: '{timestamp}.{body}',
      timestamp: seconds({ entry: 't' }, 180),
    }),
    secret: 'hookgate',
    setup: `Create the subscription (POST /webhook_subscriptions) with url = status.url and signing_key = ${PASTE}.`,
  },
  {
    name: 'linear',
    title: 'Linear',
    docs: 'https://linear.app/developers/webhooks#securing-webhooks',
    auth: hmac({
      algorithm: 'sha256',
      keyEncoding: 'utf8',
      signature: { headers: ['Linear-Signature'] },
      encoding: 'hex',
      content: '{body}',
      timestamp: { source: { field: 'webhookTimestamp' }, format: 'milliseconds', toleranceSeconds: 60 },
    }),
    secret: 'provider',
    deliveryId: { header: 'Linear-Delivery' },
    setup:
      'Settings → API → Webhooks → New webhook: URL = status.url; copy its Signing secret into your Secret.',
  },
  {
    name: 'zendesk',
    title: 'Zendesk',
    docs: 'https://developer.zendesk.com/documentation/webhooks/verifying/',
    auth: hmac({
      algorithm: 'sha256',
      keyEncoding: 'utf8',
      signature: { headers: ['X-Zendesk-Webhook-Signature'] },
      encoding: 'base64',
      content: '{timestamp}{body}',
      timestamp: {
        source: { header: 'X-Zendesk-Webhook-Signature-Timestamp' },
        format: 'rfc3339',
        toleranceSeconds: 300,
      },
    }),
    secret: 'provider',
    deliveryId: { header: 'X-Zendesk-Webhook-Invocation-Id' },
    setup:
      'Admin Center → Apps and integrations → Webhooks → Create webhook: Endpoint URL = status.url, POST, JSON; copy its Signing secret into your Secret.',
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
    name: 'standard-webhooks',
    title: 'Standard Webhooks (OpenAI, GitLab signing tokens, ...)',
    docs: 'https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md',
    auth: STANDARD_WEBHOOKS('webhook'),
    secret: 'hookgate',
    deliveryId: { header: 'webhook-id' },
    setup: `Give the sender status.url and ${PASTE} (whsec_...), or reference the secret it generated.`,
  },
  // Monitoring and incidents
  {
    name: 'sentry',
    title: 'Sentry (integration platform)',
    docs: 'https://docs.sentry.io/organization/integrations/integration-platform/webhooks/#sentry-hook-signature',
    auth: body('Sentry-Hook-Signature', 'sha256', 'hex'),
    secret: 'provider',
    deliveryId: { header: 'Request-ID' },
    setup:
      'Settings → Developer Settings → your integration: Webhook URL = status.url; copy its Client Secret into your Secret.',
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
    name: 'datadog',
    title: 'Datadog (Webhooks integration)',
    docs: 'https://docs.datadoghq.com/integrations/webhooks/',
    auth: { type: 'bearer' },
    secret: 'hookgate',
    setup: `Integrations → Webhooks → New: URL = status.url, Custom Headers {"Authorization": "Bearer <${TOKEN}>"}.`,
  },
  {
    name: 'alertmanager',
    title: 'Prometheus Alertmanager',
    docs: 'https://prometheus.io/docs/alerting/latest/configuration/#webhook_config',
    auth: { type: 'bearer' },
    secret: 'hookgate',
    setup: `webhook_configs: url = status.url, http_config.authorization.credentials_file = a file holding ${TOKEN}.`,
  },
  {
    name: 'grafana',
    title: 'Grafana Alerting',
    docs: 'https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/',
    auth: hmac({
      algorithm: 'sha256',
      keyEncoding: 'utf8',
      signature: { headers: ['X-Grafana-Alerting-Signature'] },
      encoding: 'hex',
      content: '{timestamp}:{body}',
      timestamp: seconds({ header: 'X-Grafana-Alerting-Timestamp' }),
    }),
    secret: 'hookgate',
    setup: `Contact point → Webhook: URL = status.url, HTTP method POST; HMAC Signature: Secret = ${PASTE}, Header X-Grafana-Alerting-Signature, Timestamp header X-Grafana-Alerting-Timestamp.`,
  },
  // Registries and delivery
  {
    name: 'docker-hub',
    title: 'Docker Hub',
    docs: 'https://docs.docker.com/docker-hub/repos/manage/webhooks/',
    auth: { type: 'url-token' },
    secret: 'hookgate',
    setup: 'Repository → Webhooks: Webhook URL = the URL with its token (hookgate url --with-token).',
  },
  {
    name: 'quay',
    title: 'Quay',
    docs: 'https://docs.quay.io/guides/notifications.html',
    auth: { type: 'url-token' },
    secret: 'hookgate',
    setup:
      'Repository → Settings → Create Notification → Webhook POST: Webhook URL = the URL with its token (hookgate url --with-token).',
  },
  {
    name: 'harbor',
    title: 'Harbor',
    docs: 'https://goharbor.io/docs/main/working-with-projects/project-configuration/configure-webhooks/',
    auth: { type: 'secret', header: 'Authorization' },
    secret: 'hookgate',
    setup: `Project → Webhooks → New webhook: Notify type http, Endpoint URL = status.url, Auth Header = ${PASTE}.`,
  },
  {
    name: 'nexus',
    title: 'Sonatype Nexus Repository',
    docs: 'https://help.sonatype.com/en/webhooks.html',
    auth: body('X-Nexus-Webhook-Signature', 'sha1', 'hex'),
    secret: 'hookgate',
    deliveryId: { header: 'X-Nexus-Webhook-Delivery' },
    setup: `System → Capabilities → Create capability → Webhook: Repository (or Global): URL = status.url, Secret Key = ${PASTE}.`,
  },
  {
    name: 'argocd',
    title: 'Argo CD notifications',
    docs: 'https://argo-cd.readthedocs.io/en/stable/operator-manual/notifications/services/webhook/',
    auth: { type: 'bearer' },
    secret: 'hookgate',
    setup: `argocd-notifications-cm: service.webhook.<name> url = status.url, headers [{name: Authorization, value: "Bearer $<key>"}] with the key in argocd-notifications-secret holding ${TOKEN}; template webhook method POST.`,
  },
  {
    name: 'flux',
    title: 'Flux notification-controller (generic-hmac)',
    docs: 'https://fluxcd.io/flux/components/notification/providers/#generic-webhook-with-hmac',
    auth: body('X-Signature', 'sha256', 'hex', 'sha256='),
    secret: 'hookgate',
    setup: `Provider type generic-hmac, address = status.url, secretRef to a Secret whose key "token" holds ${PASTE}.`,
  },
  {
    name: 'buildkite',
    title: 'Buildkite (signature mode)',
    docs: 'https://buildkite.com/docs/apis/webhooks/pipelines#webhook-signature',
    auth: hmac({
      algorithm: 'sha256',
      keyEncoding: 'utf8',
      signature: { headers: ['X-Buildkite-Signature'] },
      list: { separator: ',', assign: '=', key: 'signature' },
      encoding: 'hex',
      content: '{timestamp}.{body}',
      timestamp: seconds({ entry: 'timestamp' }),
    }),
    secret: 'provider',
    setup:
      'Organization Settings → Notification Services → Webhook: URL = status.url, Token: "Send the token as X-Buildkite-Signature"; copy the Token into your Secret.',
  },
  {
    name: 'circleci',
    title: 'CircleCI (outbound webhooks)',
    docs: 'https://circleci.com/docs/webhooks/#validate-webhooks',
    auth: hmac({
      algorithm: 'sha256',
      keyEncoding: 'utf8',
      signature: { headers: ['circleci-signature'] },
      list: { separator: ',', assign: '=', key: 'v1' },
      encoding: 'hex',
      content: '{body}',
    }),
    secret: 'hookgate',
    deliveryId: { field: 'id' },
    setup: `Project Settings → Webhooks → Add Webhook: Receiver URL = status.url, Secret token = ${PASTE}.`,
  },
  {
    name: 'terraform',
    title: 'HCP Terraform / Terraform Enterprise',
    docs: 'https://developer.hashicorp.com/terraform/cloud-docs/api-docs/notification-configurations#notification-authenticity',
    auth: body('X-TFE-Notification-Signature', 'sha512', 'hex'),
    secret: 'hookgate',
    setup: `Workspace → Settings → Notifications → Create: Destination Webhook, URL = status.url, Token = ${PASTE}.`,
  },
  {
    name: 'vercel',
    title: 'Vercel',
    docs: 'https://vercel.com/docs/webhooks/webhooks-api#securing-webhooks',
    auth: body('x-vercel-signature', 'sha1', 'hex'),
    secret: 'provider',
    deliveryId: { field: 'id' },
    setup:
      'Team Settings → Webhooks → Create: Endpoint = status.url; copy the secret Vercel shows once into your Secret.',
  },
  {
    name: 'telegram',
    title: 'Telegram Bot API',
    docs: 'https://core.telegram.org/bots/api#setwebhook',
    auth: { type: 'secret', header: 'X-Telegram-Bot-Api-Secret-Token' },
    secret: 'hookgate',
    urlSafeSecret: true,
    deliveryId: { field: 'update_id' },
    setup: `setWebhook with url = status.url and secret_token = ${PASTE} (generated as hgs_ + base64url, which Telegram accepts).`,
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
      'Subscribe status.url (protocol HTTPS) to the topic and list its ARN in auth.sns.topicArns; hookgate confirms the subscription (status.sns) and never runs a confirmation. Needs egress to sns.<region>.amazonaws.com (chart: networkPolicy.senderEgress).',
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

/**
 * Credentials this version checks. A row needing another is refused by the CRD rather than served
 * open.
 */
const SERVED_AUTH = new Set<ProviderAuth['type']>([
  'hmac',
  'secret',
  'bearer',
  'public-key',
  'aws-sns',
  'paypal',
  'oidc',
  'basic',
  'url-token',
  'body-secret',
]);
export const isServed = (p: Provider) => SERVED_AUTH.has(p.auth.type);

export type ProviderName = (typeof PROVIDERS)[number]['name'];
export const PROVIDER_NAMES = PROVIDERS.map((p) => p.name) as [ProviderName, ...ProviderName[]];

export const providerNamed = (name: string): Provider | undefined =>
  (PROVIDERS as readonly Provider[]).find((p) => p.name === name);

/** Senders whose verification is planned; the README's table lists them as coming. */
export const COMING: readonly { title: string; auth: string }[] = [];
