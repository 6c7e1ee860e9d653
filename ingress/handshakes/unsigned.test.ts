// Handshakes that carry no credential of the trigger (app.inject): Meta's with its verify token,
// Dropbox's, Graph's, CloudEvents' and Trello's answered because the trigger declares them,
// Asana's captured once while the trigger waits. Never a run; echoes capped and never HTML.
import { describe, expect, it } from 'vitest';
import { MAX_ECHO_LENGTH } from '../../api/v1alpha1/index.ts';
import { SECRET, sample } from '../http/fakes.test-helper.ts';
import { ApiUnavailableError } from '../types.ts';
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
  VERIFY_TOKEN,
} from './handshakes.test-helper.ts';

closeApps();

describe('meta: GET hub.mode=subscribe with the verify token', () => {
  const route = {
    auth: { signature: { scheme: 'github' as const, secrets: [{ value: SECRET }] } },
    handshakes: [{ name: 'meta-verify-token' as const, verifyTokens: [{ value: VERIFY_TOKEN }] }],
  };
  const get = (t: Apps, query: string) => t.app.inject({ method: 'GET', url: `${PATH}?${query}` });

  it('echoes hub.challenge as text when hub.verify_token matches', async () => {
    const t = setup(route);
    const res = await get(t, `hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`);
    await expectAnswered(t, res, 'meta-verify-token', '1158201444');
  });

  it('401 without an echo for a wrong or missing verify token, counted by reason', async () => {
    const t = setup(route);
    const wrong = await get(t, 'hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1158201444');
    const missing = await get(t, 'hub.mode=subscribe&hub.challenge=1158201444');
    for (const res of [wrong, missing]) expectRefused(res, '1158201444');
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
    await expectAnswered(t, res, 'dropbox-challenge', html);
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
    await expectAnswered(t, res, 'graph-validation-token', token);
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
    const res = await postJson(t, '{"events":[]}', { 'x-hook-signature': 'a'.repeat(64) });
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
