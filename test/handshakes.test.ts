// Every handshake end to end: the operator resolves each provider's handshakes and credentials into
// the route, the real ingress answers each handshake the way its provider documents (signed the
// provider's way where it signs), no Job is ever created, and the trigger's status and the request
// metric show each one.
import { createHmac, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { kubectl, waitFor } from './helpers.ts';
import { triggerObject, useServedTenant, workflowObject } from './objects.test-helper.ts';

const app = useServedTenant('handshakes');

// Secrets the providers issue (Slack, Zoom, Meta, Dropbox, Trello): one Secret, a key each.
const ISSUED = {
  slack: 'slack-signing-secret-0123456789',
  zoom: 'zoom-secret-token-0123456789ab',
  meta: 'meta-app-secret-0123456789abcd',
  dropbox: 'dropbox-app-secret-0123456789',
  trello: 'trello-app-secret-0123456789a',
};

const trigger = (name: string, auth: object, extra: object = {}) =>
  triggerObject(name, 'run', { spec: { auth, ...extra } });
const issued = (provider: keyof typeof ISSUED) =>
  trigger(provider, { provider, signature: { secretRef: { name: 'issued', key: provider } } });

beforeAll(async () => {
  const objects = [
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'issued' }, stringData: ISSUED },
    workflowObject('run'),
    ...(['slack', 'zoom', 'meta', 'dropbox', 'trello'] as const).map(issued),
    trigger('twitch', { provider: 'twitch' }),
    trigger('okta', { provider: 'okta' }),
    trigger('graph', { provider: 'microsoft-graph' }),
    trigger('eventgrid', { provider: 'azure-event-grid' }),
    trigger(
      'cloudevents',
      { provider: 'cloudevents' },
      { handshakes: [{ name: 'cloudevents-options', allowedOrigins: ['eventgrid.azure.net'] }] },
    ),
    trigger('github', { provider: 'github' }),
  ];
  await app.apply(...objects);
}, 120_000);

const { url } = app;
const hmacHex = (key: string, ...parts: string[]) => {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

/** Sends until the route is served (the ingress learns it from the operator), then the answer. */
const answered = (what: string, send: () => Promise<Response>) =>
  waitFor(
    async () => {
      const res = await send();
      return res.status !== 404 && res.status !== 503 && res;
    },
    { what: `the ${what} route served`, timeoutMs: 60_000 },
  );

/** A JSON `body` POSTed to trigger `name` with `headers()` (made again per try), once served. */
const postJson = (name: string, body: string, headers: () => Record<string, string>) =>
  answered(name, () =>
    fetch(url(name), { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers() } }),
  );

/** Slack's and Zoom's way: `v0=` and the HMAC of `v0:<timestamp>:<body>`, a fresh timestamp per try. */
const v0Signed = (provider: 'slack' | 'zoom', headerPrefix: string, body: string) =>
  postJson(provider, body, () => {
    const ts = String(Math.floor(Date.now() / 1000));
    return {
      [`${headerPrefix}-request-timestamp`]: ts,
      [`${headerPrefix}-signature`]: `v0=${hmacHex(ISSUED[provider], `v0:${ts}:`, body)}`,
    };
  });

describe('handshakes answered end to end, never a run', () => {
  it('slack url_verification, signed with the signing secret', async () => {
    const body =
      '{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}';
    const res = await v0Signed('slack', 'x-slack', body);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });
  });

  it('zoom endpoint.url_validation: {plainToken, encryptedToken}', async () => {
    const body =
      '{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}';
    const res = await v0Signed('zoom', 'x-zm', body);
    expect(await res.json()).toEqual({
      plainToken: 'qgg8vlvZRS6UYooatFL8Aw',
      encryptedToken: hmacHex(ISSUED.zoom, 'qgg8vlvZRS6UYooatFL8Aw'),
    });
  });

  it('twitch webhook_callback_verification: the raw challenge, with the secret hookgate generated', async () => {
    const secret = await app.credential('twitch', 'signingSecret');
    const body = '{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"type":"channel.follow"}}';
    const res = await postJson('twitch', body, () => {
      const id = randomBytes(8).toString('hex');
      const ts = new Date().toISOString();
      return {
        'twitch-eventsub-message-id': id,
        'twitch-eventsub-message-timestamp': ts,
        'twitch-eventsub-message-type': 'webhook_callback_verification',
        'twitch-eventsub-message-signature': `sha256=${hmacHex(secret, id, ts, body)}`,
      };
    });
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await res.text()).toBe('pogchamp-kappa-360noscope-vohiyo');
  });

  it('meta GET hub.challenge with the verify token hookgate generated; a wrong one is 401', async () => {
    const token = await app.credential('meta', 'verifyToken');
    const query = (t: string) => `?hub.mode=subscribe&hub.verify_token=${t}&hub.challenge=1158201444`;
    const res = await answered('meta', () => fetch(url('meta') + query(token)));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('1158201444');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const wrong = await fetch(url('meta') + query('nope'));
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain('1158201444');
  });

  it('dropbox GET ?challenge, graph POST ?validationToken: echoed as text', async () => {
    const dropbox = await answered('dropbox', () => fetch(`${url('dropbox')}?challenge=dXNlcl9pZA`));
    expect(await dropbox.text()).toBe('dXNlcl9pZA');
    const token = 'Validation: Testing client application reachability for subscription Request-Id: 68ad9';
    const graph = await answered('graph', () =>
      fetch(`${url('graph')}?validationToken=${encodeURIComponent(token)}`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
      }),
    );
    expect(graph.status).toBe(200);
    expect(await graph.text()).toBe(token);
  });

  it('okta GET X-Okta-Verification-Challenge with the hook Authorization header', async () => {
    const secret = await app.credential('okta', 'signingSecret');
    const res = await answered('okta', () =>
      fetch(url('okta'), {
        headers: {
          authorization: secret,
          'x-okta-verification-challenge': 'Me_rShK8JHsTnbyYrWXCEoMGbM_zsZ6k0h',
        },
      }),
    );
    expect(await res.json()).toEqual({ verification: 'Me_rShK8JHsTnbyYrWXCEoMGbM_zsZ6k0h' });
  });

  it('event grid SubscriptionValidation with its bearer token', async () => {
    const token = await app.credential('eventgrid', 'token');
    const body = JSON.stringify([
      {
        id: '2d1781af-3a4c-4d7c-bd0c-e34b19da4e66',
        data: { validationCode: '512d38b6-c7b8-40c8-89fe-f46f9e9622b6' },
        eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
      },
    ]);
    const res = await postJson('eventgrid', body, () => ({
      'aeg-event-type': 'SubscriptionValidation',
      authorization: `Bearer ${token}`,
    }));
    expect(await res.json()).toEqual({ validationResponse: '512d38b6-c7b8-40c8-89fe-f46f9e9622b6' });
  });

  it('cloudevents OPTIONS for an allowed origin; trello HEAD; a GitHub ping', async () => {
    const options = await answered('cloudevents', () =>
      fetch(url('cloudevents'), {
        method: 'OPTIONS',
        headers: { 'webhook-request-origin': 'eventgrid.azure.net' },
      }),
    );
    expect(options.status).toBe(200);
    expect(options.headers.get('webhook-allowed-origin')).toBe('eventgrid.azure.net');
    expect(options.headers.get('allow')).toBe('POST, OPTIONS');
    const head = await answered('trello', () => fetch(url('trello'), { method: 'HEAD' }));
    expect(head.status).toBe(200);
    const secret = await app.credential('github', 'signingSecret');
    const body = '{"zen":"Keep it logically awesome.","hook_id":1}';
    const ping = await postJson('github', body, () => ({
      'x-github-event': 'ping',
      'x-hub-signature-256': `sha256=${hmacHex(secret, body)}`,
    }));
    expect(await ping.json()).toEqual({ accepted: true, run: null, ping: true });
  });

  it('started no Job, and shows each handshake in its trigger status and the request metric', async () => {
    const jobs = await kubectl(['get', 'jobs', '-n', app.name, '-o', 'name']);
    expect(jobs.stdout.trim()).toBe('');
    const expected: Record<string, string> = {
      slack: 'slack-url-verification',
      zoom: 'zoom-url-validation',
      twitch: 'twitch-callback-verification',
      meta: 'meta-verify-token',
      dropbox: 'dropbox-challenge',
      graph: 'graph-validation-token',
      okta: 'okta-verification',
      eventgrid: 'event-grid-validation',
      cloudevents: 'cloudevents-options',
      trello: 'trello-head',
      github: 'ping',
    };
    // The ingress writes status in batches (every 10 s).
    for (const [name, handshake] of Object.entries(expected)) {
      const entry = await waitFor(
        async () => (await app.trigger(name)).status?.handshakes?.find((h) => h.name === handshake),
        { what: `${handshake} in ${name}'s status`, timeoutMs: 30_000 },
      );
      expect(Date.parse(entry.lastAnsweredTime)).toBeGreaterThan(Date.now() - 300_000);
    }
    const metrics = await (await fetch(app.hg.metricsUrl)).text();
    for (const [name, handshake] of Object.entries(expected)) {
      const outcome = handshake === 'ping' ? 'ping' : `handshake_${handshake}`;
      expect(metrics).toContain(
        `hookgate_ingress_requests_total{trigger="${app.name}/${name}",outcome="${outcome}"}`,
      );
    }
  });
});
