import { describe, expect, it } from 'vitest';
import { verify } from './index.ts';
import { type Delivery, jsonDelivery, mac, providerRoute, providerSuite } from './providers.test-helper.ts';

// Monitoring, incident, CI/CD and registry senders, and the senders that carry a token rather than
// a signature. None publishes an npm signer: deliveries follow each one's documented recipe.

const json = (o: object) => JSON.stringify(o);
const SECRET = 'whsec_ops-signing-secret-0123456789';
const TOKEN = 'hgt_ops-bearer-token-0123456789abcdef';
const wrongToken = (d: Delivery): Delivery => ({
  ...d,
  headers: { ...d.headers, Authorization: `Bearer ${TOKEN}x` },
});
const bearer = (body: string): Delivery => ({ body, headers: { Authorization: `Bearer ${TOKEN}` } });

describe('PagerDuty during its own secret rotation', () => {
  it('accepts `v1=<old>,v1=<new>` when either is ours, and refuses it when neither is', () => {
    const body = Buffer.from(
      json({ event: { id: '01DEN3GRBKV35J3YT4K33GYX3B', event_type: 'incident.triggered' } }),
    );
    const header = (secret: string) =>
      `v1=${mac('sha256', 'other-secret', body.toString())},v1=${mac('sha256', secret, body.toString())}`;
    const route = providerRoute('pagerduty', SECRET);
    expect(
      verify(route.auth, { headers: { 'x-pagerduty-signature': header(SECRET) }, body }, Date.now()),
    ).toMatchObject({ ok: true });
    expect(
      verify(route.auth, { headers: { 'x-pagerduty-signature': header('nope') }, body }, Date.now()),
    ).toEqual({
      ok: false,
      reason: 'invalid_signature',
    });
  });
});

providerSuite([
  {
    provider: 'sentry',
    signedBy: "Sentry's sample (Sentry-Hook-Signature: hex HMAC of the body), node:crypto",
    secret: SECRET,
    sign: () =>
      jsonDelivery({ action: 'created', data: { issue: { id: '1170820242' } } }, (body) => ({
        'Sentry-Hook-Signature': mac('sha256', SECRET, body),
        'Request-ID': 'r-1',
      })),
  },
  {
    provider: 'pagerduty',
    signedBy: "PagerDuty's recipe (X-PagerDuty-Signature: v1=<hex>[,v1=...]), node:crypto",
    secret: SECRET,
    sign: () =>
      jsonDelivery(
        { event: { id: '01DEN3GRBKV35J3YT4K33GYX3B', event_type: 'incident.triggered' } },
        (body) => ({ 'X-PagerDuty-Signature': `v1=${mac('sha256', SECRET, body)}`, 'X-Webhook-Id': 'wh-1' }),
      ),
  },
  {
    provider: 'grafana',
    signedBy: "Grafana's HMAC recipe (hex HMAC of timestamp:body, with its timestamp header), node:crypto",
    secret: SECRET,
    sign: (now) => {
      const ts = String(Math.floor(now / 1000));
      return jsonDelivery({ receiver: 'hookgate', status: 'firing', groupKey: '{}:{}' }, (body) => ({
        'X-Grafana-Alerting-Signature': mac('sha256', SECRET, `${ts}:${body}`),
        'X-Grafana-Alerting-Timestamp': ts,
      }));
    },
  },
  {
    provider: 'nexus',
    signedBy: "Sonatype's recipe (X-Nexus-Webhook-Signature: hex HMAC-SHA1), node:crypto",
    secret: SECRET,
    sign: () =>
      jsonDelivery(
        {
          timestamp: '2016-11-10T23:57:49.664+0000',
          repositoryName: 'npm-proxy',
          action: 'CREATED',
        },
        (body) => ({
          'X-Nexus-Webhook-Signature': mac('sha1', SECRET, body),
          'X-Nexus-Webhook-Delivery': '7f69f5a8',
        }),
      ),
  },
  {
    provider: 'flux',
    signedBy: "Flux's generic-hmac recipe (X-Signature: sha256=<hex>), node:crypto",
    secret: SECRET,
    sign: () =>
      jsonDelivery(
        {
          involvedObject: { kind: 'Kustomization', name: 'apps' },
          reason: 'ReconciliationSucceeded',
        },
        (body) => ({ 'X-Signature': `sha256=${mac('sha256', SECRET, body)}` }),
      ),
  },
  {
    provider: 'buildkite',
    signedBy:
      "Buildkite's recipe (X-Buildkite-Signature: timestamp=..,signature=HMAC of ts.body), node:crypto",
    secret: SECRET,
    sign: (now) => {
      const ts = Math.floor(now / 1000);
      return jsonDelivery({ event: 'build.finished', build: { id: 'f62a1b4d' } }, (body) => ({
        'X-Buildkite-Signature': `timestamp=${ts},signature=${mac('sha256', SECRET, `${ts}.${body}`)}`,
      }));
    },
  },
  {
    provider: 'circleci',
    signedBy: "CircleCI's recipe (circleci-signature: v1=<hex>), node:crypto",
    secret: SECRET,
    sign: () =>
      jsonDelivery({ id: '3888f21b-eaa7-38e3-8f3d-75a63bba8895', type: 'workflow-completed' }, (body) => ({
        'circleci-signature': `v1=${mac('sha256', SECRET, body)}`,
      })),
  },
  {
    provider: 'terraform',
    signedBy: "HashiCorp's recipe (X-TFE-Notification-Signature: hex HMAC-SHA512), node:crypto",
    secret: SECRET,
    sign: () =>
      jsonDelivery(
        { payload_version: 1, notification_configuration_id: 'nc-1', run_id: 'run-1' },
        (body) => ({ 'X-TFE-Notification-Signature': mac('sha512', SECRET, body) }),
      ),
  },
  {
    provider: 'vercel',
    signedBy: "Vercel's recipe (x-vercel-signature: hex HMAC-SHA1), node:crypto",
    secret: SECRET,
    sign: () =>
      jsonDelivery({ id: 'uCTwXZjvJ', type: 'deployment.succeeded', payload: {} }, (body) => ({
        'x-vercel-signature': mac('sha1', SECRET, body),
      })),
  },
  {
    provider: 'harbor',
    signedBy: 'Harbor: the Auth Header value itself in Authorization',
    secret: SECRET,
    sign: () => ({
      body: json({ type: 'PUSH_ARTIFACT', occur_at: 1680000000 }),
      headers: { Authorization: SECRET },
    }),
    tamper: (d) => ({ ...d, headers: { Authorization: `${SECRET}x` } }),
    replayRuns: true,
  },
  {
    provider: 'telegram',
    signedBy: 'Telegram: the secret_token itself in X-Telegram-Bot-Api-Secret-Token',
    secret: 'hgs_telegram_0123456789-abcdefABCDEF',
    sign: () => ({
      body: json({ update_id: 10000, message: { text: '/deploy' } }),
      headers: { 'X-Telegram-Bot-Api-Secret-Token': 'hgs_telegram_0123456789-abcdefABCDEF' },
    }),
    tamper: (d) => ({
      ...d,
      headers: { 'X-Telegram-Bot-Api-Secret-Token': 'hgs_telegram_0123456789-abcdefABCDEf' },
    }),
  },
  {
    provider: 'alertmanager',
    signedBy: 'Alertmanager: http_config.authorization (Bearer)',
    secret: TOKEN,
    sign: () => bearer(json({ version: '4', status: 'firing', receiver: 'hookgate', groupKey: '{}:{}' })),
    tamper: wrongToken,
    replayRuns: true,
  },
  {
    provider: 'datadog',
    signedBy: 'Datadog: a custom Authorization header (Bearer)',
    secret: TOKEN,
    sign: () => bearer(json({ title: 'CPU high', alert_type: 'error' })),
    tamper: wrongToken,
    replayRuns: true,
  },
  {
    provider: 'argocd',
    signedBy: 'Argo CD notifications: a webhook header Authorization (Bearer)',
    secret: TOKEN,
    sign: () => bearer(json({ app: 'guestbook', status: 'Synced' })),
    tamper: wrongToken,
    replayRuns: true,
  },
  {
    provider: 'azure-event-grid',
    signedBy: 'Event Grid: a secret delivery property Authorization (Bearer)',
    secret: TOKEN,
    sign: () => bearer(json([{ id: '2d1781af-3a4c', eventType: 'Microsoft.Storage.BlobCreated', data: {} }])),
    tamper: wrongToken,
  },
  {
    provider: 'cloudevents',
    signedBy: 'CloudEvents webhook spec: Authorization (Bearer), ce-id',
    secret: TOKEN,
    sign: () => ({
      ...bearer(json({ message: 'hello' })),
      headers: {
        Authorization: `Bearer ${TOKEN}`,
        'ce-id': 'A234-1234-1234',
        'ce-specversion': '1.0',
        'ce-type': 'x',
      },
    }),
    tamper: wrongToken,
  },
]);
