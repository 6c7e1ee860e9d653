// Handshakes the provider signs or authenticates like its deliveries (app.inject): verified first,
// then answered as the provider documents, never a run, counted and recorded for status; refused
// 401 without an echo otherwise. Slack's, Zoom's and Twitch's are signed the providers' way.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { resolveAuth } from '../../api/v1alpha1/index.ts';
import { SECRET } from '../http/fakes.test-helper.ts';
import { sign } from '../verify/index.ts';
import {
  type Apps,
  closeApps,
  expectAnswered,
  expectNoRun,
  expectRefused,
  NOW,
  PATH,
  postJson,
  setup,
  URL_TOKEN,
} from './handshakes.test-helper.ts';

closeApps();
const OKTA_SECRET = 'okta-shared-secret-0123456789abcdef';

describe('slack url_verification', () => {
  const slack = { scheme: 'slack' as const, secrets: [{ value: SECRET }] };
  const route = { auth: { signature: slack }, handshakes: [{ name: 'slack-url-verification' as const }] };
  const body =
    '{"type":"url_verification","token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}';
  const post = (t: Apps, headers: Record<string, string>) => postJson(t, body, headers);

  it('is answered with its challenge once signed, counted and recorded, starting nothing', async () => {
    const t = setup(route);
    const res = await post(t, sign(slack, SECRET, Buffer.from(body), NOW));
    await expectAnswered(t, res, 'slack-url-verification', {
      challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
    });
  });

  it('is refused 401 without an echo when the signature is wrong or missing', async () => {
    const t = setup(route);
    for (const headers of [{}, sign(slack, `${SECRET}x`, Buffer.from(body), NOW)]) {
      expectRefused(await post(t, headers), '3eZbrw1aBm2rZgRNFdxV');
    }
    expectNoRun(t);
    expect(t.handshakes).toEqual([]);
  });
});

describe('okta: GET with X-Okta-Verification-Challenge and the hook Authorization header', () => {
  const route = {
    auth: {
      signature: {
        scheme: 'shared-secret' as const,
        header: 'Authorization',
        secrets: [{ value: OKTA_SECRET }],
      },
    },
    handshakes: [{ name: 'okta-verification' as const }],
  };
  // The request Okta documents, with the hook's authentication header.
  const request = (authorization?: string) => ({
    method: 'GET' as const,
    url: PATH,
    headers: {
      'user-agent': 'Okta-Integrations',
      accept: 'application/json',
      'x-okta-verification-challenge': 'Me_rShK8JHsTnbyYrWXCEoMGbM_zsZ6k0hLPZ_Pg',
      ...(authorization ? { authorization } : {}),
    },
  });

  it('answers {"verification": <challenge>} when the Authorization header is the secret', async () => {
    const t = setup(route);
    const res = await t.app.inject(request(OKTA_SECRET));
    await expectAnswered(t, res, 'okta-verification', {
      verification: 'Me_rShK8JHsTnbyYrWXCEoMGbM_zsZ6k0hLPZ_Pg',
    });
  });

  it('401 without an echo for a wrong or missing secret', async () => {
    const t = setup(route);
    for (const auth of [undefined, 'not-the-secret']) {
      expectRefused(await t.app.inject(request(auth)), 'Me_rShK8');
    }
    expect(t.handshakes).toEqual([]);
  });
});

describe('azure-event-grid SubscriptionValidation, over the URL token', () => {
  const route = {
    auth: { urlTokens: [{ value: URL_TOKEN }] },
    handshakes: [{ name: 'event-grid-validation' as const }],
  };
  // Event Grid's documented validation event (EventGridEvent schema).
  const body = JSON.stringify([
    {
      id: '2d1781af-3a4c-4d7c-bd0c-e34b19da4e66',
      topic: '/subscriptions/xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx',
      subject: '',
      data: {
        validationCode: '512d38b6-c7b8-40c8-89fe-f46f9e9622b6',
        validationUrl:
          'https://rp-eastus2.eventgrid.azure.net:553/eventsubscriptions/myeventsub/validate?id=0000',
      },
      eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
      eventTime: '2018-01-25T22:12:19.4556811Z',
      metadataVersion: '1',
      dataVersion: '1',
    },
  ]);
  const post = (t: Apps, url: string) =>
    postJson(t, body, { 'aeg-event-type': 'SubscriptionValidation' }, url);

  it('answers {"validationResponse": <validationCode>}', async () => {
    const t = setup(route);
    const res = await post(t, `${PATH}/${URL_TOKEN}`);
    await expectAnswered(t, res, 'event-grid-validation', {
      validationResponse: '512d38b6-c7b8-40c8-89fe-f46f9e9622b6',
    });
  });

  it('401 without the URL token, or with another', async () => {
    const t = setup(route);
    for (const url of [PATH, `${PATH}/hgu_wrong`]) expectRefused(await post(t, url), '512d38b6');
  });
});

/** A route of `provider`, with the verifier the operator resolves from its row and `secret`. */
const providerRoute = (provider: 'zoom' | 'twitch' | 'github', secret: string) => {
  const resolved = resolveAuth({ provider });
  const handshakes = (resolved.provider?.handshakes ?? []).map((name) => ({ name }));
  const secrets: { value: string; validUntil?: string }[] = [{ value: secret }];
  return {
    auth: { signature: { verifier: resolved.verifier!, secrets } },
    ...(resolved.provider ? { provider: resolved.provider } : {}),
    handshakes,
  };
};
const hmacHex = (key: string, ...parts: string[]) => {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

describe('zoom endpoint.url_validation', () => {
  const ZOOM_SECRET = 'zoom-secret-token-0123456789';
  // Zoom's documented validation request; its signature is v0=HMAC-SHA256(secret, "v0:ts:body").
  const body =
    '{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}';
  const ts = String(Math.floor(NOW / 1000));
  const post = (t: Apps, signature: string) =>
    postJson(t, body, { 'x-zm-request-timestamp': ts, 'x-zm-signature': signature });

  it('answers {plainToken, encryptedToken}: the HMAC-SHA256 of plainToken with the secret token, in hex', async () => {
    const t = setup(providerRoute('zoom', ZOOM_SECRET));
    const res = await post(t, `v0=${hmacHex(ZOOM_SECRET, `v0:${ts}:`, body)}`);
    await expectAnswered(t, res, 'zoom-url-validation', {
      plainToken: 'qgg8vlvZRS6UYooatFL8Aw',
      encryptedToken: hmacHex(ZOOM_SECRET, 'qgg8vlvZRS6UYooatFL8Aw'),
    });
  });

  it('during a rotation, answers with the secret that signed the request', async () => {
    const route = providerRoute('zoom', 'new-zoom-secret-token-0123');
    route.auth.signature.secrets.push({
      value: ZOOM_SECRET,
      validUntil: new Date(NOW + 60_000).toISOString(),
    });
    const t = setup(route);
    const res = await post(t, `v0=${hmacHex(ZOOM_SECRET, `v0:${ts}:`, body)}`);
    expect(res.json().encryptedToken).toBe(hmacHex(ZOOM_SECRET, 'qgg8vlvZRS6UYooatFL8Aw'));
  });

  it('401 without an echo for a wrong signature', async () => {
    const t = setup(providerRoute('zoom', ZOOM_SECRET));
    expectRefused(
      await post(t, `v0=${hmacHex('not-the-secret', `v0:${ts}:`, body)}`),
      'qgg8vlvZRS6UYooatFL8Aw',
    );
  });
});

describe('twitch webhook_callback_verification', () => {
  const TWITCH_SECRET = 'twitch-secret-0123456789';
  // Twitch's documented challenge request; the signature is sha256=HMAC(secret, id + timestamp + body).
  const body = JSON.stringify({
    challenge: 'pogchamp-kappa-360noscope-vohiyo',
    subscription: {
      id: 'f1c2a387-161a-49f9-a165-0f21d7a4e1c4',
      status: 'webhook_callback_verification_pending',
      type: 'channel.follow',
      version: '2',
      cost: 1,
      condition: { broadcaster_user_id: '12826' },
      transport: { method: 'webhook', callback: 'https://example.com/webhooks/callback' },
      created_at: '2019-11-16T10:11:12.634234626Z',
    },
  });
  const id = 'e76c6bd4-55c9-4987-8304-da1588d8988b';
  const timestamp = new Date(NOW).toISOString();
  const post = (t: Apps, secret: string) =>
    postJson(t, body, {
      'twitch-eventsub-message-id': id,
      'twitch-eventsub-message-timestamp': timestamp,
      'twitch-eventsub-message-type': 'webhook_callback_verification',
      'twitch-eventsub-message-signature': `sha256=${hmacHex(secret, id, timestamp, body)}`,
    });

  it('answers the raw challenge as text', async () => {
    const t = setup(providerRoute('twitch', TWITCH_SECRET));
    const res = await post(t, TWITCH_SECRET);
    await expectAnswered(t, res, 'twitch-callback-verification', 'pogchamp-kappa-360noscope-vohiyo');
  });

  it('401 without an echo for a wrong signature', async () => {
    const t = setup(providerRoute('twitch', TWITCH_SECRET));
    expectRefused(await post(t, 'not-the-secret'), 'pogchamp');
  });
});

describe('pings', () => {
  it('a GitHub ping is answered without a run and recorded for status as ping', async () => {
    const t = setup(providerRoute('github', SECRET));
    const body = '{"zen":"Design for failure.","hook_id":1}';
    const res = await postJson(t, body, {
      'x-github-event': 'ping',
      'x-hub-signature-256': `sha256=${hmacHex(SECRET, body)}`,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ accepted: true, run: null, ping: true });
    expectNoRun(t);
    expect(t.handshakes).toEqual(['team-a/deploy ping']);
  });
});
