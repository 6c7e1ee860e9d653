// Credentials for senders that cannot sign, through the app (app.inject): HTTP Basic, a token in the
// URL path, a secret in a body field. Each is checked as early as it can be, rotates with overlap,
// and never shows up in an answer, a log line or a metric.
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { SECRET, sample, testApp, testRoute } from './http/fakes.test-helper.ts';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const PATH = '/hooks/team-a/deploy';
const USER = 'hg4f9c2a1d0b7e';
const PASSWORD = 'Xq3vN8mP1sL6tR0wY4zB7cD2fG5hJ9kA-uE_iO3pS8d';
const URL_TOKEN = 'hgu_Jc1Fz0mWn3e5Qb8tY2rK6pS9vD4xA7hL0uG3iN5oE1w';
const CLIENT_STATE = 'hgs_Wm8Ps2Qk5Tn9Vb3Xc6Zd0Fg4Hj7Lr1Ny-Ku_Ae2Bo5Ci';

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

const basicHeader = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const post = (
  t: Apps,
  opts: { url?: string; headers?: Record<string, string>; body?: string | Readable } = {},
) =>
  t.app.inject({
    method: 'POST',
    url: opts.url ?? PATH,
    payload: opts.body ?? '{"alerts":[]}',
    headers: { 'content-type': 'application/json', ...opts.headers },
  });

describe('auth.basic', () => {
  const route = { auth: { basic: [{ value: `${USER}:${PASSWORD}` }] } };

  it('202 with the right user and password', async () => {
    const t = setup(route);
    const res = await post(t, { headers: { authorization: basicHeader(USER, PASSWORD) } });
    expect(res.statusCode).toBe(202);
    expect(t.launcher.runs.size).toBe(1);
  });

  it('401 with WWW-Authenticate: Basic for a missing or wrong credential, starting nothing', async () => {
    const t = setup(route);
    const answers = [
      await post(t),
      await post(t, { headers: { authorization: basicHeader(USER, `${PASSWORD}x`) } }),
      await post(t, { headers: { authorization: basicHeader('someone', PASSWORD) } }),
      await post(t, { headers: { authorization: `Bearer ${PASSWORD}` } }),
    ];
    for (const res of answers) {
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Basic realm="hookgate"');
      expect(res.body).not.toContain(PASSWORD);
    }
    expect(answers.map((a) => a.json().error.message)).toEqual([
      'verification failed: missing_basic_auth',
      'verification failed: invalid_basic_auth',
      'verification failed: invalid_basic_auth',
      'verification failed: missing_basic_auth',
    ]);
    expect(t.launcher.runs.size).toBe(0);
    const failed = await sample(t.registry, 'hookgate_ingress_verification_failures_total', {
      reason: 'invalid_basic_auth',
    });
    expect(failed).toBe(2);
  });

  it('is checked from the headers, before the body is read', async () => {
    const t = setup(route);
    let pulled = 0;
    const body = new Readable({
      read() {
        pulled++;
        // Never ends: only an answer from the headers can come back.
      },
    });
    const res = await post(t, {
      body,
      headers: { authorization: basicHeader(USER, 'wrong'), 'content-length': '1000' },
    });
    expect(res.statusCode).toBe(401);
    expect(pulled).toBeLessThanOrEqual(1);
  });

  it('accepts the previous credential during the overlap, and only then', async () => {
    const until = new Date(NOW + 60_000).toISOString();
    const t = setup({
      auth: { basic: [{ value: 'hgnew:new-password' }, { value: `${USER}:${PASSWORD}`, validUntil: until }] },
    });
    const old = { authorization: basicHeader(USER, PASSWORD) };
    expect((await post(t, { headers: old })).statusCode).toBe(202);
    expect(
      (await post(t, { headers: { authorization: basicHeader('hgnew', 'new-password') } })).statusCode,
    ).toBe(202);
    t.now.ms = NOW + 60_000;
    expect((await post(t, { headers: old })).statusCode).toBe(401);
  });

  it('with a signature too, both are required', async () => {
    const t = setup({
      auth: {
        basic: [{ value: `${USER}:${PASSWORD}` }],
        signature: { scheme: 'shared-secret', secrets: [{ value: SECRET }] },
      },
    });
    const authorization = basicHeader(USER, PASSWORD);
    expect((await post(t, { headers: { authorization } })).statusCode).toBe(401);
    expect((await post(t, { headers: { authorization, 'x-webhook-secret': SECRET } })).statusCode).toBe(202);
  });
});

describe('auth.urlToken', () => {
  const route = { auth: { urlTokens: [{ value: URL_TOKEN }] } };

  it('202 at <url>/<token>; 401 at the bare URL or with another token; 404 for a token on a trigger without one', async () => {
    const t = setup(route);
    expect((await post(t, { url: `${PATH}/${URL_TOKEN}` })).statusCode).toBe(202);
    const bare = await post(t);
    expect(bare.statusCode).toBe(401);
    expect(bare.json().error.message).toBe('verification failed: missing_url_token');
    const wrong = await post(t, { url: `${PATH}/${URL_TOKEN.slice(0, -1)}` });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.message).toBe('verification failed: invalid_url_token');
    expect(t.launcher.runs.size).toBe(1);

    const other = setup({ auth: { tokens: [{ value: 'hgt_x' }] } });
    expect(
      (await post(other, { url: `${PATH}/${URL_TOKEN}`, headers: { authorization: 'Bearer hgt_x' } }))
        .statusCode,
    ).toBe(404);
  });

  it('accepts the previous token during the overlap, and only then', async () => {
    const until = new Date(NOW + 1000).toISOString();
    const t = setup({ auth: { urlTokens: [{ value: 'hgu_new' }, { value: URL_TOKEN, validUntil: until }] } });
    expect((await post(t, { url: `${PATH}/${URL_TOKEN}` })).statusCode).toBe(202);
    expect((await post(t, { url: `${PATH}/hgu_new` })).statusCode).toBe(202);
    t.now.ms = NOW + 1000;
    expect((await post(t, { url: `${PATH}/${URL_TOKEN}` })).statusCode).toBe(401);
  });

  it('never puts the token in an answer, a log line, a metric or the run input, on any path', async () => {
    const t = setup(route);
    const answers = [
      await post(t, { url: `${PATH}/${URL_TOKEN}?x=1` }),
      await post(t, { url: `${PATH}/${URL_TOKEN}`, body: '{nope' }),
      await post(t, { url: `${PATH}/${URL_TOKEN}`, headers: { 'content-type': 'application/xml' } }),
      await t.app.inject({ method: 'GET', url: `${PATH}/${URL_TOKEN}` }),
      await post(t, { url: `/hooks/team-a/other/${URL_TOKEN}` }),
      await post(t, { url: `${PATH}/${URL_TOKEN}x` }),
    ];
    t.launcher.failNext = new Error('something broke');
    answers.push(await post(t, { url: `${PATH}/${URL_TOKEN}` }));
    expect(answers.map((a) => a.statusCode)).toEqual([202, 400, 415, 405, 404, 401, 500]);
    for (const a of answers) {
      expect(a.body).not.toContain(URL_TOKEN);
      expect(JSON.stringify(a.headers)).not.toContain(URL_TOKEN);
    }
    expect(t.logText.length).toBeGreaterThanOrEqual(answers.length);
    expect(t.logText.join('')).not.toContain(URL_TOKEN.slice(4, 20));
    expect(await t.registry.metrics()).not.toContain(URL_TOKEN.slice(4, 20));
    expect(JSON.stringify(t.launcher.deliveries.map((d) => d.input))).not.toContain(URL_TOKEN);
  });
});

describe('auth.bodySecret (Microsoft Graph clientState)', () => {
  const route = {
    auth: { bodySecret: { field: 'value.*.clientState', secrets: [{ value: CLIENT_STATE }] } },
  };
  const notification = (...states: string[]) =>
    JSON.stringify({
      value: states.map((clientState, i) => ({
        subscriptionId: '7f105c7d-2dc5-4530-97cd-4e7ae6534c07',
        changeType: 'created',
        resource: `Users/x/Messages/${i}`,
        clientState,
      })),
    });

  it('202 when every notification carries the secret, and the run input does not', async () => {
    const t = setup(route);
    const res = await post(t, { body: notification(CLIENT_STATE, CLIENT_STATE) });
    expect(res.statusCode).toBe(202);
    const input = t.launcher.deliveries[0]!.input as { value: Record<string, unknown>[] };
    expect(input.value).toHaveLength(2);
    expect(input.value[0]).toMatchObject({ changeType: 'created', resource: 'Users/x/Messages/0' });
    expect(JSON.stringify(input)).not.toContain(CLIENT_STATE);
  });

  it('401 when one notification lacks it or carries another; 400 for a body that is not JSON', async () => {
    const t = setup(route);
    const mixed = await post(t, { body: notification(CLIENT_STATE, 'hgs_guess') });
    const none = await post(t, { body: '{"value":[{"changeType":"created"}]}' });
    expect([mixed.statusCode, none.statusCode]).toEqual([401, 401]);
    expect(mixed.json().error.message).toBe('verification failed: invalid_body_secret');
    expect(none.json().error.message).toBe('verification failed: missing_body_secret');
    expect((await post(t, { body: '{"value":' })).statusCode).toBe(400);
    expect(t.launcher.runs.size).toBe(0);
    for (const a of [mixed, none]) expect(a.body).not.toContain(CLIENT_STATE);
  });

  it('never logs the secret', async () => {
    const t = setup(route);
    await post(t, { body: notification(CLIENT_STATE) });
    await post(t, { body: notification('hgs_guess') });
    expect(t.logText.join('')).not.toContain(CLIENT_STATE);
  });
});
