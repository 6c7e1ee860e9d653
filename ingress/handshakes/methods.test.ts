// Methods and hostile senders around handshakes (app.inject): 405 with Allow for what a trigger
// does not accept, 404 for unknown paths, and the flood guard, rate limits and body limits applied
// to handshakes as to deliveries.
import { describe, expect, it } from 'vitest';
import type { Route } from '../../api/v1alpha1/index.ts';
import { SECRET } from '../http/fakes.test-helper.ts';
import { sign } from '../verify/index.ts';
import { closeApps, expectNoRun, NOW, PATH, setup, VERIFY_TOKEN } from './handshakes.test-helper.ts';

closeApps();

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
  const handshaking = (route: Parameters<typeof setup>[0]) =>
    setup(route, { floodLimit: { requests: 3, periodSeconds: 60 } });

  it('answered unsigned handshakes and refused ones count towards the flood guard; verified ones do not', async () => {
    const unsigned = handshaking({
      auth: { tokens: [{ value: 'hgt_x' }] },
      handshakes: [{ name: 'dropbox-challenge' }],
    });
    const get = () => unsigned.app.inject({ method: 'GET', url: `${PATH}?challenge=c` });
    for (let i = 0; i < 3; i++) expect((await get()).statusCode).toBe(200);
    expect((await get()).statusCode).toBe(429);

    const meta: Route['handshakes'] = [
      { name: 'meta-verify-token', verifyTokens: [{ value: VERIFY_TOKEN }] },
    ];
    const verified = handshaking({ auth: { tokens: [{ value: 'hgt_x' }] }, handshakes: meta });
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
