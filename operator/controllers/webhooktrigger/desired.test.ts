import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RouteSchema } from '../../../api/v1alpha1/index.ts';
import { counting, now, routeInput, spec, workflowSpec } from './desired.test-helper.ts';
import {
  credentialStatus,
  credentialsSecret,
  desiredRoute,
  generatedParts,
  planCredentials,
  ROTATED_AT,
  ROTATED_FOR,
  resolveCredentials,
  routeSecret,
  routeSecretName,
  triggerURL,
} from './desired.ts';
import { cryptoGenerators } from './generate.ts';

const HOUR = 3_600_000;

const both = { token: true, signingSecret: true };

describe('names and URL', () => {
  it('route Secret name is the first 16 hex of sha256("<ns>/<name>")', () => {
    const hex = createHash('sha256').update('team-a/github').digest('hex').slice(0, 16);
    expect(routeSecretName('team-a', 'github')).toBe(`hookgate-route-${hex}`);
  });

  it('URL is base + /hooks/<ns>/<name> with no double slash', () => {
    expect(triggerURL('https://hooks.example.com/', 'ns', 't')).toBe('https://hooks.example.com/hooks/ns/t');
  });
});

describe('generatedParts', () => {
  it('generates only what has no secretRef', () => {
    const ref = { name: 's', key: 'k' };
    expect(generatedParts(spec({ bearer: {} }))).toEqual({ token: true, signingSecret: false });
    expect(generatedParts(spec({ bearer: { secretRef: ref }, signature: { scheme: 'github' } }))).toEqual({
      token: false,
      signingSecret: true,
    });
    expect(generatedParts(spec({ signature: { scheme: 'github', secretRef: ref } }))).toEqual({
      token: false,
      signingSecret: false,
    });
  });
});

describe('cryptoGenerators', () => {
  it('token: hgt_ + 32 random bytes base64url; secret: whsec_ + base64 of 32 bytes', () => {
    const token = cryptoGenerators.token();
    expect(token).toMatch(/^hgt_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token.slice(4), 'base64url')).toHaveLength(32);
    const secret = cryptoGenerators.signingSecret();
    expect(secret.startsWith('whsec_')).toBe(true);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(cryptoGenerators.token()).not.toBe(token);
  });
});

describe('planCredentials', () => {
  const base = { graceMs: 24 * HOUR, now, rotate: undefined };
  const tokenOnly = { token: true, signingSecret: false };
  /** The plan for `existing` with fresh generators, of the token alone unless `parts` says otherwise. */
  const planFor = (
    existing: { data: Record<string, string>; annotations: Record<string, string> } | undefined,
    opts: { parts?: typeof both; rotate?: string } = {},
  ) => planCredentials({ ...base, parts: tokenOnly, ...opts, existing, generate: counting() });

  it('creates the Secret with every generated part when none exists', () => {
    const g = counting();
    const plan = planCredentials({ ...base, parts: both, existing: undefined, generate: g });
    expect(plan).toMatchObject({
      write: 'create',
      data: { token: 'hgt_token1', signingSecret: 'whsec_secret2' },
      generated: ['token', 'signingSecret'],
    });
  });

  it('nothing to generate and no Secret: no Secret', () => {
    const plan = planFor(undefined, { parts: { token: false, signingSecret: false } });
    expect(plan).toBeUndefined();
  });

  it('never regenerates a present key (restart, re-apply, unrelated edit)', () => {
    const g = counting();
    const existing = { data: { token: 'hgt_old', signingSecret: 'whsec_old' }, annotations: {} };
    const plan = planCredentials({ ...base, parts: both, existing, generate: g });
    expect(g.calls).toBe(0);
    expect(plan).toMatchObject({ write: 'none', data: existing.data });
  });

  it('generates only the part that was added', () => {
    const g = counting();
    const existing = { data: { token: 'hgt_old' }, annotations: {} };
    const plan = planCredentials({ ...base, parts: both, existing, generate: g });
    expect(plan).toMatchObject({
      write: 'update',
      generated: ['signingSecret'],
      data: { token: 'hgt_old', signingSecret: 'whsec_secret1' },
    });
  });

  it('keeps keys of parts no longer generated (switching back must not mint new ones)', () => {
    const existing = { data: { token: 'hgt_old', signingSecret: 'whsec_old' }, annotations: {} };
    const plan = planFor(existing);
    expect(plan).toMatchObject({ write: 'none', data: existing.data });
  });

  it('rotation moves current to previous with validUntil = now + grace and records the request', () => {
    const g = counting();
    const existing = { data: { token: 'hgt_old', signingSecret: 'whsec_old' }, annotations: {} };
    const plan = planCredentials({ ...base, parts: both, existing, rotate: 'r1', generate: g })!;
    expect(plan.write).toBe('update');
    expect(plan.rotated).toBe(true);
    expect(plan.data).toEqual({
      token: 'hgt_token1',
      signingSecret: 'whsec_secret2',
      previousToken: 'hgt_old',
      previousSigningSecret: 'whsec_old',
      previousValidUntil: '2026-03-02T12:00:00Z',
    });
    expect(plan.annotations).toEqual({ [ROTATED_FOR]: 'r1', [ROTATED_AT]: '2026-03-01T12:00:00Z' });
    expect(plan.requeueAfter).toBe(24 * HOUR);
  });

  it('a rotation value already handled does nothing', () => {
    const g = counting();
    const existing = { data: { token: 'hgt_new' }, annotations: { [ROTATED_FOR]: 'r1' } };
    const plan = planCredentials({
      ...base,
      parts: { token: true, signingSecret: false },
      existing,
      rotate: 'r1',
      generate: g,
    });
    expect(g.calls).toBe(0);
    expect(plan?.write).toBe('none');
  });

  it('a rotation requested before the Secret exists is recorded, not performed twice', () => {
    const plan = planFor(undefined, { parts: both, rotate: 'r1' })!;
    expect(plan.rotated).toBe(false);
    expect(plan.annotations[ROTATED_FOR]).toBe('r1');
    expect(plan.data.previousToken).toBeUndefined();
  });

  it('rotation leaves referenced parts alone', () => {
    const existing = { data: { token: 'hgt_old' }, annotations: {} };
    const plan = planFor(existing, { rotate: 'r' })!;
    expect(Object.keys(plan.data).sort()).toEqual(['previousToken', 'previousValidUntil', 'token']);
  });

  it('during the grace period: requeue at expiry', () => {
    const existing = {
      data: { token: 'hgt_new', previousToken: 'hgt_old', previousValidUntil: '2026-03-01T12:00:05Z' },
      annotations: { [ROTATED_FOR]: 'r1' },
    };
    const plan = planFor(existing, { rotate: 'r1' });
    expect(plan).toMatchObject({ write: 'none', requeueAfter: 5000, expired: false });
  });

  it('after the grace period: previous keys dropped', () => {
    const existing = {
      data: { token: 'hgt_new', previousToken: 'hgt_old', previousValidUntil: '2026-03-01T11:59:59Z' },
      annotations: { [ROTATED_FOR]: 'r1' },
    };
    const plan = planFor(existing, { rotate: 'r1' })!;
    expect(plan).toMatchObject({ write: 'update', expired: true, data: { token: 'hgt_new' } });
    expect(Object.keys(plan.data)).toEqual(['token']);
    expect(plan.requeueAfter).toBeUndefined();
  });

  it('an unreadable validUntil counts as expired', () => {
    const existing = {
      data: { token: 'a', previousToken: 'b', previousValidUntil: 'soon' },
      annotations: {},
    };
    const plan = planFor(existing)!;
    expect(plan.expired).toBe(true);
  });
});

describe('credentialsSecret', () => {
  const owner = { namespace: 'ns', name: 't', uid: 'u-1' };
  it('is owned by the trigger (controller reference) with base64 data', () => {
    const s = credentialsSecret(owner, { data: { token: 'hgt_x' }, annotations: { [ROTATED_FOR]: 'r' } });
    expect(s.metadata).toMatchObject({
      name: 't-credentials',
      namespace: 'ns',
      annotations: { [ROTATED_FOR]: 'r' },
      ownerReferences: [{ kind: 'WebhookTrigger', name: 't', uid: 'u-1', controller: true }],
    });
    expect(s.metadata?.resourceVersion).toBeUndefined();
    expect(Buffer.from(s.data!.token!, 'base64').toString()).toBe('hgt_x');
  });
  it('carries the resourceVersion it was computed from, for updates', () => {
    expect(credentialsSecret(owner, { data: {}, annotations: {} }, '42').metadata?.resourceVersion).toBe(
      '42',
    );
  });
});

describe('resolveCredentials', () => {
  it('generated parts from the Secret, referenced ones from their Secrets, previous only for generated', () => {
    const stored = {
      token: 'hgt_new',
      previousToken: 'hgt_old',
      previousValidUntil: 'T',
      signingSecret: 'ignored',
    };
    expect(
      resolveCredentials({ token: true, signingSecret: false }, stored, { signingSecret: 'ref' }),
    ).toEqual({
      token: 'hgt_new',
      previousToken: 'hgt_old',
      previousValidUntil: 'T',
      signingSecret: 'ref',
    });
  });
});

describe('desiredRoute / routeSecret', () => {
  it('embeds current and previous credentials with validUntil, the workflow, and passes RouteSchema', () => {
    const route = desiredRoute(
      routeInput(spec({ bearer: {}, signature: { scheme: 'github' } }), {
        token: 'hgt_new',
        previousToken: 'hgt_old',
        signingSecret: 'whsec_s',
        previousValidUntil: '2026-03-02T00:00:00Z',
      }),
    );
    expect(RouteSchema.parse(route)).toEqual(route);
    expect(route).toMatchObject({
      namespace: 'ns',
      name: 't',
      uid: 'tu',
      generation: 2,
      path: '/hooks/ns/t',
      suspended: false,
      auth: {
        tokens: [{ value: 'hgt_new' }, { value: 'hgt_old', validUntil: '2026-03-02T00:00:00Z' }],
        signature: { scheme: 'github', secrets: [{ value: 'whsec_s' }] },
      },
      rateLimit: { requests: 30, periodSeconds: 60 },
      workflow: { name: 'build', uid: 'wu', spec: workflowSpec },
    });
  });

  it("carries the signature's replay window into the route", () => {
    const sig = { scheme: 'github' as const, replayWindowSeconds: 86_400 };
    const route = desiredRoute(routeInput(spec({ signature: sig }), { signingSecret: 'whsec_s' }));
    expect(route.auth.signature?.replayWindowSeconds).toBe(86_400);
  });

  it('a suspended trigger keeps a route marked suspended', () => {
    expect(
      desiredRoute(routeInput(spec({ bearer: {} }, { suspend: true }), { token: 'hgt_x' })).suspended,
    ).toBe(true);
  });

  it('refuses a route without a signing secret (the schema needs one)', () => {
    expect(() => desiredRoute(routeInput(spec({ signature: { scheme: 'github' } })))).toThrow();
  });

  it('route Secret: labels the ingress selects on, route.json, same bytes for the same route', () => {
    const route = desiredRoute(routeInput(spec({ bearer: {} }), { token: 'hgt_x' }));
    const s = routeSecret(route, 'hookgate-system');
    expect(s.metadata).toMatchObject({
      name: routeSecretName('ns', 't'),
      namespace: 'hookgate-system',
      labels: {
        'hookgate.io/route': 'true',
        'hookgate.io/trigger': 't',
        'hookgate.io/trigger-namespace': 'ns',
      },
    });
    expect(s.metadata?.ownerReferences).toBeUndefined();
    expect(JSON.parse(Buffer.from(s.data!['route.json']!, 'base64').toString())).toEqual(
      JSON.parse(JSON.stringify(route)),
    );
    expect(
      routeSecret(desiredRoute(routeInput(spec({ bearer: {} }), { token: 'hgt_x' })), 'hookgate-system'),
    ).toEqual(s);
  });
});

describe('credentialStatus', () => {
  it('shows the generated token prefix, never a referenced token', () => {
    const stored = { data: { token: 'hgt_AbCdEfGh' }, annotations: { [ROTATED_AT]: 'T0' } };
    const s = spec({ bearer: {} });
    expect(
      credentialStatus('t', { token: true, signingSecret: false }, stored, { token: 'hgt_AbCdEfGh' }, s),
    ).toEqual({
      credentialsSecret: 't-credentials',
      tokenPrefix: 'hgt_AbCd',
      signingSecretSet: false,
      lastRotationTime: 'T0',
    });
    const ref = spec({ bearer: { secretRef: { name: 's', key: 'k' } } });
    expect(credentialStatus('t', generatedParts(ref), undefined, { token: 'user-token' }, ref)).toEqual({
      signingSecretSet: false,
    });
  });

  it('reports the signing secret and the grace period', () => {
    const s = spec({ signature: { scheme: 'standard-webhooks' } });
    const resolved = { signingSecret: 'whsec_a', previousSigningSecret: 'whsec_b', previousValidUntil: 'T1' };
    expect(
      credentialStatus('t', generatedParts(s), { data: {}, annotations: {} }, resolved, s),
    ).toMatchObject({
      signingSecretSet: true,
      previousCredentialsValidUntil: 'T1',
    });
  });
});
