import { describe, expect, it } from 'vitest';
import { providerNamed, RouteSchema } from '../../../api/v1alpha1/index.ts';
import { routeInput, spec } from './desired.test-helper.ts';
import { desiredRoute, generatedParts, planCredentials } from './desired.ts';
import { cryptoGenerators } from './generate.ts';

// What the operator makes of a provider: the credentials it generates, and the Route the ingress
// runs (the row's verifier resolved, its delivery id, pings and handshakes, the published URL).

const URL = 'https://hooks.example.com/hooks/ns/t';
const route = (s: ReturnType<typeof spec>, credentials: object) =>
  desiredRoute(routeInput(s, credentials, { url: URL }));
const REF = { name: 'hook', key: 'secret' };

describe('credentials a provider needs', () => {
  it.each([
    [{ provider: 'github' }, { token: false, signingSecret: true }],
    [
      { provider: 'stripe', signature: { secretRef: REF } },
      { token: false, signingSecret: false },
    ],
    [{ provider: 'alertmanager' }, { token: true, signingSecret: false }],
    [
      { provider: 'alertmanager', bearer: { secretRef: REF } },
      { token: false, signingSecret: false },
    ],
    [
      { provider: 'github', bearer: {} },
      { token: true, signingSecret: true },
    ],
    [{ provider: 'telegram' }, { token: false, signingSecret: true, secretFormat: 'url-safe' }],
    [
      { signature: { scheme: 'hmac', keyEncoding: 'hex' } },
      { token: false, signingSecret: true, secretFormat: 'hex' },
    ],
  ])('%j → %j', (auth, parts) => {
    expect(generatedParts(spec(auth))).toEqual(parts);
  });

  it.each(['url-safe', 'hex', 'base64', 'whsec'] as const)(
    'generates %s secrets of 32 random bytes',
    (format) => {
      const secret = cryptoGenerators.signingSecret(format);
      const shape = {
        'url-safe': /^hgs_[A-Za-z0-9_-]{43}$/,
        hex: /^[0-9a-f]{64}$/,
        base64: /^[A-Za-z0-9+/]{43}=$/,
        whsec: /^whsec_[A-Za-z0-9+/]{43}=$/,
      }[format];
      expect(secret).toMatch(shape);
      expect(cryptoGenerators.signingSecret(format)).not.toBe(secret);
    },
  );

  it('rotation keeps the format: a Telegram secret rotates to another url-safe one', () => {
    const parts = generatedParts(spec({ provider: 'telegram' }));
    const plan = planCredentials({
      parts,
      existing: { data: { signingSecret: 'hgs_old' }, annotations: {} },
      rotate: 'now',
      graceMs: 60_000,
      now: new Date(),
      generate: cryptoGenerators,
    })!;
    expect(plan.data.signingSecret).toMatch(/^hgs_[A-Za-z0-9_-]{43}$/);
    expect(plan.data.previousSigningSecret).toBe('hgs_old');
  });
});

describe('the route of a provider', () => {
  it('carries the resolved verifier, the delivery id, pings and the published URL', () => {
    const r = route(spec({ provider: 'github' }), { signingSecret: 'whsec_s' });
    expect(RouteSchema.parse(r)).toEqual(r);
    expect(r.auth.signature).toEqual({
      verifier: providerNamed('github')!.auth,
      secrets: [{ value: 'whsec_s' }],
    });
    expect(r.provider).toEqual({
      name: 'github',
      deliveryId: { header: 'X-GitHub-Delivery' },
      pings: [{ source: { header: 'X-GitHub-Event' }, values: ['ping'] }],
    });
    expect(r.url).toBe(URL);
    expect(r.auth.tokens).toBeUndefined();
  });

  it('a bearer provider serves tokens and no signature', () => {
    const r = route(spec({ provider: 'argocd' }), { token: 'hgt_x' });
    expect(r.auth).toEqual({ tokens: [{ value: 'hgt_x' }] });
    expect(r.provider).toEqual({ name: 'argocd' });
  });

  it('a tolerance set on the trigger reaches the verifier', () => {
    const r = route(spec({ provider: 'slack', signature: { secretRef: REF, toleranceSeconds: 60 } }), {
      signingSecret: 'x',
    });
    expect(r.auth.signature?.verifier).toMatchObject({ timestamp: { toleranceSeconds: 60 } });
  });

  it('the seven schemes keep their knobs in the route, so the ingress of the version before serves them', () => {
    const r = route(spec({ signature: { scheme: 'hmac-sha256', header: 'X-Sig', prefix: 'sha256=' } }), {
      signingSecret: 's',
    });
    expect(r.auth.signature).toMatchObject({ scheme: 'hmac-sha256', header: 'X-Sig', prefix: 'sha256=' });
    expect(r.auth.signature?.verifier).toMatchObject({
      type: 'hmac',
      signature: { headers: ['X-Sig'] },
      prefix: 'sha256=',
    });
  });
});
