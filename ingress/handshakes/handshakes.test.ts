// Every handshake through the app (app.inject): answered as its provider documents, verified
// first where the provider signs it, refused without an echo otherwise, never a run, counted in
// the request metric and recorded for the trigger's status.
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_ECHO_LENGTH, type Route } from '../../api/v1alpha1/index.ts';
import { SECRET, sample, testApp, testRoute } from '../http/fakes.test-helper.ts';
import { ApiUnavailableError } from '../types.ts';
import { sign } from '../verify/index.ts';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const PATH = '/hooks/team-a/deploy';
const URL_TOKEN = 'hgu_Jc1Fz0mWn3e5Qb8tY2rK6pS9vD4xA7hL0uG3iN5oE1w';
const OKTA_SECRET = 'okta-shared-secret-0123456789abcdef';
const VERIFY_TOKEN = 'hgv_3kP9sWq2Lr7Xn1Bz5Ct8Md4Fy6Gh0Jv2Ka9Ue3Ro1Ti';

type Apps = ReturnType<typeof testApp>;
const apps: Apps[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.app.close()));
});

function setup(overrides: Parameters<typeof testRoute>[0]) {
  const t = testApp([testRoute(overrides)], {}, { ms: NOW });
  apps.push(t);
  return t;
}

/** Nothing ran and nothing was recorded as a use: a handshake is never a delivery. */
function expectNoRun(t: Apps) {
  expect(t.launcher.runs.size).toBe(0);
  expect(t.used).toHaveLength(0);
}

const SAFE_TEXT = { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' };
const SAFE_JSON = { 'content-type': 'application/json; charset=utf-8', 'x-content-type-options': 'nosniff' };

describe('slack url_verification', () => {
  const slack = { scheme: 'slack' as const, secrets: [{ value: SECRET }] };
  const route = { auth: { signature: slack }, handshakes: [{ name: 'slack-url-verification' as const }] };
  const body =
    '{"type":"url_verification","token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}';
  const post = (t: Apps, headers: Record<string, string>) =>
    t.app.inject({
      method: 'POST',
      url: PATH,
      payload: body,
      headers: { 'content-type': 'application/json', ...headers },
    });

  it('is answered with its challenge once signed, counted and recorded, starting nothing', async () => {
    const t = setup(route);
    const res = await post(t, sign(slack, SECRET, Buffer.from(body), NOW));
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject(SAFE_JSON);
    expect(res.json()).toEqual({ challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });
    expectNoRun(t);
    expect(t.handshakes).toEqual(['team-a/deploy slack-url-verification']);
    expect(
      await sample(t.registry, 'hookgate_ingress_requests_total', {
        outcome: 'handshake_slack-url-verification',
      }),
    ).toBe(1);
  });

  it('is refused 401 without an echo when the signature is wrong or missing', async () => {
    const t = setup(route);
    for (const headers of [{}, sign(slack, `${SECRET}x`, Buffer.from(body), NOW)]) {
      const res = await post(t, headers);
      expect(res.statusCode).toBe(401);
      expect(res.body).not.toContain('3eZbrw1aBm2rZgRNFdxV');
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
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject(SAFE_JSON);
    expect(res.json()).toEqual({ verification: 'Me_rShK8JHsTnbyYrWXCEoMGbM_zsZ6k0hLPZ_Pg' });
    expectNoRun(t);
    expect(t.handshakes).toEqual(['team-a/deploy okta-verification']);
  });

  it('401 without an echo for a wrong or missing secret', async () => {
    const t = setup(route);
    for (const auth of [undefined, 'not-the-secret']) {
      const res = await t.app.inject(request(auth));
      expect(res.statusCode).toBe(401);
      expect(res.body).not.toContain('Me_rShK8');
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
    t.app.inject({
      method: 'POST',
      url,
      payload: body,
      headers: { 'content-type': 'application/json', 'aeg-event-type': 'SubscriptionValidation' },
    });

  it('answers {"validationResponse": <validationCode>}', async () => {
    const t = setup(route);
    const res = await post(t, `${PATH}/${URL_TOKEN}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ validationResponse: '512d38b6-c7b8-40c8-89fe-f46f9e9622b6' });
    expectNoRun(t);
    expect(
      await sample(t.registry, 'hookgate_ingress_requests_total', {
        outcome: 'handshake_event-grid-validation',
      }),
    ).toBe(1);
  });

  it('401 without the URL token, or with another', async () => {
    const t = setup(route);
    for (const url of [PATH, `${PATH}/hgu_wrong`]) {
      const res = await post(t, url);
      expect(res.statusCode).toBe(401);
      expect(res.body).not.toContain('512d38b6');
    }
  });
});

describe('meta: GET hub.mode=subscribe with the verify token', () => {
  const route = {
    auth: { signature: { scheme: 'github' as const, secrets: [{ value: SECRET }] } },
    handshakes: [{ name: 'meta-verify-token' as const, verifyTokens: [{ value: VERIFY_TOKEN }] }],
  };
  const get = (t: Apps, query: string) => t.app.inject({ method: 'GET', url: `${PATH}?${query}` });

  it('echoes hub.challenge as text when hub.verify_token matches', async () => {
    const t = setup(route);
    const res = await get(t, `hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`);
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject(SAFE_TEXT);
    expect(res.body).toBe('1158201444');
    expectNoRun(t);
    expect(t.handshakes).toEqual(['team-a/deploy meta-verify-token']);
    expect(
      await sample(t.registry, 'hookgate_ingress_requests_total', { outcome: 'handshake_meta-verify-token' }),
    ).toBe(1);
  });

  it('401 without an echo for a wrong or missing verify token, counted by reason', async () => {
    const t = setup(route);
    const wrong = await get(t, 'hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1158201444');
    const missing = await get(t, 'hub.mode=subscribe&hub.challenge=1158201444');
    for (const res of [wrong, missing]) {
      expect(res.statusCode).toBe(401);
      expect(res.body).not.toContain('1158201444');
    }
    const failures = (reason: string) =>
      sample(t.registry, 'hookgate_ingress_verification_failures_total', { reason });
    expect(await failures('invalid_verify_token')).toBe(1);
    expect(await failures('missing_verify_token')).toBe(1);
    expect(t.handshakes).toEqual([]);
  });

  it('accepts the previous verify token until its validUntil', async () => {
    const until = new Date(NOW + 60_000).toISOString();
    const t = setup({
      ...route,
      handshakes: [
        {
          name: 'meta-verify-token',
          verifyTokens: [{ value: 'hgv_new' }, { value: VERIFY_TOKEN, validUntil: until }],
        },
      ],
    });
    const query = `hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=42`;
    expect((await get(t, query)).statusCode).toBe(200);
    t.now.ms = NOW + 60_001;
    expect((await get(t, query)).statusCode).toBe(401);
  });
});

describe('unsigned echoes: dropbox, microsoft-graph', () => {
  it('dropbox: GET ?challenge echoed as text with nosniff, HTML included, never as HTML', async () => {
    const t = setup({ auth: { tokens: [{ value: 'hgt_x' }] }, handshakes: [{ name: 'dropbox-challenge' }] });
    const html = '<script>alert(1)</script>';
    const res = await t.app.inject({ method: 'GET', url: `${PATH}?challenge=${encodeURIComponent(html)}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject(SAFE_TEXT);
    expect(res.body).toBe(html);
    expectNoRun(t);
  });

  it('microsoft-graph: POST ?validationToken= echoes the decoded token as text, without a clientState', async () => {
    const t = setup({
      auth: { bodySecret: { field: 'value.*.clientState', secrets: [{ value: 'hgs_state' }] } },
      handshakes: [{ name: 'graph-validation-token' }],
    });
    const token = 'Validation: Testing client application reachability for subscription Request-Id: 68ad9c4f';
    const res = await t.app.inject({
      method: 'POST',
      url: `${PATH}?validationToken=${encodeURIComponent(token)}`,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject(SAFE_TEXT);
    expect(res.body).toBe(token);
    expectNoRun(t);
  });

  it('where the trigger has a URL token, the handshake needs it too (it comes to the same URL)', async () => {
    const t = setup({
      auth: { urlTokens: [{ value: URL_TOKEN }] },
      handshakes: [{ name: 'dropbox-challenge' }],
    });
    expect((await t.app.inject({ method: 'GET', url: `${PATH}?challenge=abc` })).statusCode).toBe(401);
    const res = await t.app.inject({ method: 'GET', url: `${PATH}/${URL_TOKEN}?challenge=abc` });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('abc');
  });

  it(`caps every echo at ${MAX_ECHO_LENGTH} characters (400, nothing echoed) and refuses a repeated value`, async () => {
    const t = setup({ auth: { tokens: [{ value: 'hgt_x' }] }, handshakes: [{ name: 'dropbox-challenge' }] });
    const at = await t.app.inject({ method: 'GET', url: `${PATH}?challenge=${'a'.repeat(MAX_ECHO_LENGTH)}` });
    expect(at.statusCode).toBe(200);
    const over = await t.app.inject({
      method: 'GET',
      url: `${PATH}?challenge=${'b'.repeat(MAX_ECHO_LENGTH + 1)}`,
    });
    expect(over.statusCode).toBe(400);
    expect(over.body).not.toContain('bbbb');
    const twice = await t.app.inject({ method: 'GET', url: `${PATH}?challenge=a1&challenge=a2` });
    expect(twice.statusCode).toBe(400);
    expect(twice.body).not.toContain('a1');
  });
});

describe('cloudevents: OPTIONS abuse protection', () => {
  const route = {
    auth: { tokens: [{ value: 'hgt_x' }] },
    rateLimit: { requests: 30, periodSeconds: 60 },
    handshakes: [{ name: 'cloudevents-options' as const, allowedOrigins: ['eventgrid.azure.net'] }],
  };
  const options = (t: Apps, origin: string, extra: Record<string, string> = {}) =>
    t.app.inject({ method: 'OPTIONS', url: PATH, headers: { 'webhook-request-origin': origin, ...extra } });

  it('allows an origin of the list: WebHook-Allowed-Origin, WebHook-Allowed-Rate and Allow', async () => {
    const t = setup(route);
    const res = await options(t, 'eventgrid.azure.net', { 'webhook-request-rate': '120' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['webhook-allowed-origin']).toBe('eventgrid.azure.net');
    // The trigger's rate limit per minute, unless allowedRate says otherwise.
    expect(res.headers['webhook-allowed-rate']).toBe('30');
    expect(res.headers.allow).toBe('POST, OPTIONS');
    expectNoRun(t);
    expect(t.handshakes).toEqual(['team-a/deploy cloudevents-options']);
  });

  it('grants allowedRate when set, and any origin for "*"', async () => {
    const t = setup({
      ...route,
      handshakes: [{ name: 'cloudevents-options', allowedOrigins: ['*'], allowedRate: 500 }],
    });
    const res = await options(t, 'emitter.example.com');
    expect(res.headers['webhook-allowed-origin']).toBe('emitter.example.com');
    expect(res.headers['webhook-allowed-rate']).toBe('500');
  });

  it('refuses another origin (403, no permission headers) and counts it as unverified', async () => {
    const t = setup(route);
    const res = await options(t, 'attacker.example.com');
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('handshake_refused');
    expect(res.headers['webhook-allowed-origin']).toBeUndefined();
    expect(res.headers['webhook-allowed-rate']).toBeUndefined();
    expect(t.handshakes).toEqual([]);
  });

  it('an OPTIONS without WebHook-Request-Origin is not the handshake (400); other methods 405', async () => {
    const t = setup(route);
    expect((await t.app.inject({ method: 'OPTIONS', url: PATH })).statusCode).toBe(400);
    const get = await t.app.inject({ method: 'GET', url: PATH });
    expect(get.statusCode).toBe(405);
    expect(get.headers.allow).toBe('POST, OPTIONS');
  });
});

describe('asana: X-Hook-Secret, captured once while the trigger waits', () => {
  const asana = { scheme: 'hmac-sha256' as const, header: 'X-Hook-Signature' };
  const waiting = {
    auth: { signature: { ...asana, secrets: [] } },
    handshakes: [{ name: 'asana-hook-secret' as const, waiting: true }],
  };
  const hook = (t: Apps, secret: string) =>
    t.app.inject({ method: 'POST', url: PATH, headers: { 'x-hook-secret': secret } });

  it('captures the secret and echoes it in X-Hook-Secret; a second handshake is refused', async () => {
    const t = setup(waiting);
    const res = await hook(t, 'b537207f20cbfa02357cf448134da559');
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-hook-secret']).toBe('b537207f20cbfa02357cf448134da559');
    expect(t.captures.captured).toEqual(new Map([['team-a/deploy', 'b537207f20cbfa02357cf448134da559']]));
    expectNoRun(t);
    const again = await hook(t, 'attackers-secret-0000000000000000');
    expect(again.statusCode).toBe(403);
    expect(again.headers['x-hook-secret']).toBeUndefined();
    expect(t.captures.captured.get('team-a/deploy')).toBe('b537207f20cbfa02357cf448134da559');
  });

  it('is refused (403, nothing captured) when the trigger is not waiting', async () => {
    const captured = {
      auth: { signature: { ...asana, secrets: [{ value: 'captured' }] } },
      handshakes: [{ name: 'asana-hook-secret' as const }],
    };
    const t = setup(captured);
    const res = await hook(t, 'b537207f20cbfa02357cf448134da559');
    expect(res.statusCode).toBe(403);
    expect(res.headers['x-hook-secret']).toBeUndefined();
    expect(t.captures.captured.size).toBe(0);
  });

  it('503 with Retry-After when the capture cannot be stored, and no echo', async () => {
    const t = setup(waiting);
    t.captures.failNext = new ApiUnavailableError('connect ECONNREFUSED');
    const res = await hook(t, 'b537207f20cbfa02357cf448134da559');
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(res.headers['x-hook-secret']).toBeUndefined();
  });

  it('refuses a secret that is not visible ASCII (it is sent back in a header)', async () => {
    const t = setup(waiting);
    const res = await hook(t, 'with space');
    expect(res.statusCode).toBe(400);
    expect(t.captures.captured.size).toBe(0);
  });

  it('while waiting, deliveries are refused: nothing verifies them yet', async () => {
    const t = setup(waiting);
    const res = await t.app.inject({
      method: 'POST',
      url: PATH,
      payload: '{"events":[]}',
      headers: { 'content-type': 'application/json', 'x-hook-signature': 'a'.repeat(64) },
    });
    expect(res.statusCode).toBe(401);
    expectNoRun(t);
  });
});

describe('trello: HEAD', () => {
  it('answers 200 to HEAD; GET stays 405 with Allow naming POST and HEAD', async () => {
    const t = setup({ auth: { tokens: [{ value: 'hgt_x' }] }, handshakes: [{ name: 'trello-head' }] });
    const head = await t.app.inject({ method: 'HEAD', url: PATH });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
    expectNoRun(t);
    expect(t.handshakes).toEqual(['team-a/deploy trello-head']);
    const get = await t.app.inject({ method: 'GET', url: PATH });
    expect(get.statusCode).toBe(405);
    expect(get.headers.allow).toBe('POST, HEAD');
  });
});

describe('methods', () => {
  it('405 with Allow: POST for every other method of a trigger without handshakes; 404 for unknown paths', async () => {
    const t = setup({});
    for (const method of ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const) {
      const res = await t.app.inject({ method, url: PATH });
      expect(res.statusCode, method).toBe(405);
      expect(res.headers.allow).toBe('POST');
      expect((await t.app.inject({ method, url: '/hooks/team-a/unknown' })).statusCode).toBe(404);
    }
  });

  it('a trigger with GET handshakes: other methods 405 listing exactly what it accepts; a GET that is none 400', async () => {
    const t = setup({
      auth: { tokens: [{ value: 'hgt_x' }] },
      handshakes: [
        { name: 'meta-verify-token', verifyTokens: [{ value: VERIFY_TOKEN }] },
        { name: 'dropbox-challenge' },
      ],
    });
    for (const method of ['PUT', 'DELETE', 'OPTIONS', 'HEAD'] as const) {
      const res = await t.app.inject({ method, url: PATH });
      expect(res.statusCode, method).toBe(405);
      expect(res.headers.allow).toBe('POST, GET');
    }
    const plain = await t.app.inject({ method: 'GET', url: PATH });
    expect(plain.statusCode).toBe(400);
    expectNoRun(t);
  });
});

describe('hostile senders', () => {
  const handshaking = (route: Parameters<typeof testRoute>[0]) =>
    testApp([testRoute(route)], { floodLimit: { requests: 3, periodSeconds: 60 } }, { ms: NOW });

  it('answered unsigned handshakes and refused ones count towards the flood guard; verified ones do not', async () => {
    const unsigned = handshaking({
      auth: { tokens: [{ value: 'hgt_x' }] },
      handshakes: [{ name: 'dropbox-challenge' }],
    });
    apps.push(unsigned);
    const get = () => unsigned.app.inject({ method: 'GET', url: `${PATH}?challenge=c` });
    for (let i = 0; i < 3; i++) expect((await get()).statusCode).toBe(200);
    expect((await get()).statusCode).toBe(429);

    const meta: Route['handshakes'] = [
      { name: 'meta-verify-token', verifyTokens: [{ value: VERIFY_TOKEN }] },
    ];
    const verified = handshaking({ auth: { tokens: [{ value: 'hgt_x' }] }, handshakes: meta });
    apps.push(verified);
    const good = `${PATH}?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1`;
    for (let i = 0; i < 10; i++)
      expect((await verified.app.inject({ method: 'GET', url: good })).statusCode).toBe(200);
    const bad = `${PATH}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1`;
    for (let i = 0; i < 3; i++)
      expect((await verified.app.inject({ method: 'GET', url: bad })).statusCode).toBe(401);
    expect((await verified.app.inject({ method: 'GET', url: good })).statusCode).toBe(429);
  });

  it("verified handshakes spend the trigger's rate limit like deliveries", async () => {
    const t = setup({
      auth: { tokens: [{ value: 'hgt_x' }] },
      rateLimit: { requests: 2, periodSeconds: 60 },
      handshakes: [{ name: 'meta-verify-token', verifyTokens: [{ value: VERIFY_TOKEN }] }],
    });
    const url = `${PATH}?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1`;
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await t.app.inject({ method: 'GET', url })).statusCode);
    expect(codes).toEqual([200, 200, 429]);
  });

  it('a suspended or unavailable trigger answers no handshake', async () => {
    const handshakes: Route['handshakes'] = [{ name: 'dropbox-challenge' }];
    const suspended = setup({ suspended: true, handshakes });
    expect((await suspended.app.inject({ method: 'GET', url: `${PATH}?challenge=c` })).statusCode).toBe(403);
    const unavailable = setup({
      unavailable: { reason: 'WorkflowNotFound', message: 'no workflow' },
      handshakes,
    });
    expect((await unavailable.app.inject({ method: 'GET', url: `${PATH}?challenge=c` })).statusCode).toBe(
      503,
    );
  });

  it('a body handshake is also held to the trigger body limit', async () => {
    const slack = { scheme: 'slack' as const, secrets: [{ value: SECRET }] };
    const t = setup({
      auth: { signature: slack },
      handshakes: [{ name: 'slack-url-verification' }],
      maxBodyBytes: 64,
    });
    const body = JSON.stringify({ type: 'url_verification', challenge: 'c'.repeat(100) });
    const res = await t.app.inject({
      method: 'POST',
      url: PATH,
      payload: body,
      headers: { 'content-type': 'application/json', ...sign(slack, SECRET, Buffer.from(body), NOW) },
    });
    expect(res.statusCode).toBe(413);
  });
});
