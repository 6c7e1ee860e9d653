// The credentials of senders that cannot sign (Basic, URL token, body secret), Meta's verify token
// and Asana's captured secret: what is generated, rotated with overlap, referenced, published in
// the route, and shown in status. Pure (desired.ts).
import { describe, expect, it } from 'vitest';
import { counting, now, routeInput, spec } from './desired.test-helper.ts';
import {
  CAPTURED_AT,
  credentialStatus,
  desiredRoute,
  generatedParts,
  planCredentials,
  type RouteInput,
  resolveCredentials,
} from './desired.ts';
import { cryptoGenerators } from './generate.ts';

const GRACE = 3_600_000;

const plan = (s: ReturnType<typeof spec>, existing?: Record<string, string>, more: object = {}) =>
  planCredentials({
    parts: generatedParts(s),
    existing: existing && { data: existing, annotations: {} },
    rotate: undefined,
    graceMs: GRACE,
    now,
    generate: counting(),
    ...more,
  });

const route = (s: ReturnType<typeof spec>, credentials: RouteInput['credentials']) =>
  desiredRoute(routeInput(s, credentials));

describe('generated parts', () => {
  it('Basic, URL token, body secret and verify token, each only without a secretRef', () => {
    const all = spec(
      { basic: {}, urlToken: {}, bodySecret: { field: 'value.*.clientState' } },
      { handshakes: [{ name: 'meta-verify-token' }] },
    );
    expect(generatedParts(all)).toEqual({
      token: false,
      signingSecret: false,
      basic: true,
      urlToken: true,
      bodySecret: true,
      verifyToken: true,
    });
    const ref = { name: 'mine', key: 'k' };
    const referenced = spec(
      { basic: { secretRef: { name: 'mine' } }, urlToken: { secretRef: ref } },
      { handshakes: [{ name: 'meta-verify-token', verifyToken: { secretRef: ref } }] },
    );
    expect(generatedParts(referenced)).toEqual({ token: false, signingSecret: false });
  });

  it('a provider preset implies its credential (docker-hub: a URL token)', () => {
    expect(generatedParts(spec({ provider: 'docker-hub' }))).toMatchObject({ urlToken: true });
  });

  it('an asana handshake awaits the signing secret instead of generating one', () => {
    const asana = spec(
      { signature: { scheme: 'hmac-sha256', header: 'X-Hook-Signature' } },
      { handshakes: [{ name: 'asana-hook-secret' }] },
    );
    expect(generatedParts(asana)).toEqual({ token: false, signingSecret: false, capture: true });
  });

  it('crypto generators: 256 bits, characters safe in a path, a header and a Basic credential', () => {
    const { username, password } = cryptoGenerators.basic();
    for (const v of [username, password, cryptoGenerators.urlToken(), cryptoGenerators.bodySecret()])
      expect(v).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(cryptoGenerators.urlToken()).toMatch(/^hgu_[A-Za-z0-9_-]{43}$/);
    expect(cryptoGenerators.verifyToken()).toMatch(/^hgv_[A-Za-z0-9_-]{43}$/);
    expect(password).toHaveLength(43);
    expect(cryptoGenerators.urlToken()).not.toBe(cryptoGenerators.urlToken());
  });
});

describe('planCredentials for the new parts', () => {
  const s = spec({ basic: {}, urlToken: {} });

  it('creates username, password and urlToken, never again once present', () => {
    const first = plan(s)!;
    expect(first.data).toEqual({ username: 'hguser1', password: 'pass1', urlToken: 'hgu_url2' });
    expect(first.generated).toEqual(['basic', 'urlToken']);
    const again = plan(s, first.data)!;
    expect(again.write).toBe('none');
  });

  it('rotates every part into its previous keys with one validUntil', () => {
    const existing = { username: 'hgold', password: 'pwold', urlToken: 'hgu_old' };
    const rotated = plan(s, existing, { rotate: 'r1' })!;
    expect(rotated.rotated).toBe(true);
    expect(rotated.data).toMatchObject({
      previousUsername: 'hgold',
      previousPassword: 'pwold',
      previousUrlToken: 'hgu_old',
      previousValidUntil: '2026-03-01T13:00:00Z',
    });
    expect(rotated.data.urlToken).not.toBe('hgu_old');
    const resolved = resolveCredentials(generatedParts(s), rotated.data, {});
    expect(resolved).toMatchObject({ previousBasic: 'hgold:pwold', previousUrlToken: 'hgu_old' });
    expect(resolved.basic).toBe(`${rotated.data.username}:${rotated.data.password}`);
  });

  it('drops every previous key once the overlap is over', () => {
    const existing = {
      username: 'a',
      password: 'b',
      urlToken: 'c',
      previousUsername: 'x',
      previousPassword: 'y',
      previousUrlToken: 'z',
      previousValidUntil: '2026-03-01T11:59:59Z',
    };
    const expired = plan(s, existing)!;
    expect(expired.expired).toBe(true);
    expect(expired.data).toEqual({ username: 'a', password: 'b', urlToken: 'c' });
  });
});

describe('a secret captured from a handshake', () => {
  const asana = spec(
    { signature: { scheme: 'hmac-sha256', header: 'X-Hook-Signature' } },
    { handshakes: [{ name: 'asana-hook-secret' }] },
  );

  it('is taken in while none is there, once, and then kept', () => {
    expect(plan(asana)).toBeUndefined();
    const taken = plan(asana, undefined, { captured: 'b537207f20cbfa02357cf448134da559' })!;
    expect(taken).toMatchObject({ write: 'create', captured: true });
    expect(taken.data).toEqual({ signingSecret: 'b537207f20cbfa02357cf448134da559' });
    expect(taken.annotations[CAPTURED_AT]).toBe('2026-03-01T12:00:00Z');
    const later = plan(asana, taken.data, { captured: 'attacker' })!;
    expect(later.captured).toBe(false);
    expect(later.data.signingSecret).toBe('b537207f20cbfa02357cf448134da559');
  });

  it('a rotation keeps it valid through the overlap and waits for a new one', () => {
    const rotated = plan(asana, { signingSecret: 'old' }, { rotate: 'r1' })!;
    // Emptied rather than removed: server-side apply cannot remove what the Secret's create owns.
    expect(rotated.data).toEqual({
      signingSecret: '',
      previousSigningSecret: 'old',
      previousValidUntil: '2026-03-01T13:00:00Z',
    });
    const parts = generatedParts(asana);
    const resolved = resolveCredentials(parts, rotated.data, {});
    expect(resolved).toEqual({ previousSigningSecret: 'old', previousValidUntil: '2026-03-01T13:00:00Z' });
    const r = route(asana, resolved);
    expect(r.auth.signature?.secrets).toEqual([{ value: 'old', validUntil: '2026-03-01T13:00:00Z' }]);
    expect(r.handshakes).toEqual([{ name: 'asana-hook-secret', waiting: true }]);
    expect(
      credentialStatus('t', parts, { data: rotated.data, annotations: {} }, resolved, asana),
    ).toMatchObject({
      secretCapture: { state: 'Waiting' },
    });
  });

  it('status and route say Captured, and stop waiting', () => {
    const parts = generatedParts(asana);
    const stored = { data: { signingSecret: 's' }, annotations: { [CAPTURED_AT]: '2026-03-01T12:00:00Z' } };
    const resolved = resolveCredentials(parts, stored.data, {});
    expect(credentialStatus('t', parts, stored, resolved, asana).secretCapture).toEqual({
      state: 'Captured',
      capturedTime: '2026-03-01T12:00:00Z',
    });
    expect(route(asana, resolved).handshakes).toEqual([{ name: 'asana-hook-secret', waiting: false }]);
  });
});

describe('desiredRoute and status', () => {
  it('publishes every credential, the handshakes with their settings, and refuses one without a value', () => {
    const s = spec(
      { basic: {}, urlToken: {}, bodySecret: { field: 'value.*.clientState' } },
      {
        handshakes: [
          { name: 'meta-verify-token' },
          { name: 'cloudevents-options', allowedOrigins: ['eventgrid.azure.net'], allowedRate: 60 },
        ],
      },
    );
    const creds = { basic: 'u:p', urlToken: 'hgu_a', bodySecret: 'hgs_b', verifyToken: 'hgv_c' };
    const r = route(s, creds);
    expect(r.auth).toEqual({
      basic: [{ value: 'u:p' }],
      urlTokens: [{ value: 'hgu_a' }],
      bodySecret: { field: 'value.*.clientState', secrets: [{ value: 'hgs_b' }] },
    });
    expect(r.handshakes).toEqual([
      { name: 'meta-verify-token', verifyTokens: [{ value: 'hgv_c' }] },
      { name: 'cloudevents-options', allowedOrigins: ['eventgrid.azure.net'], allowedRate: 60 },
    ]);
    expect(() => route(s, { ...creds, urlToken: undefined })).toThrow('URL token');
    expect(() => route(s, { ...creds, verifyToken: undefined })).toThrow('verify token');
  });

  it('the slack scheme implies its url_verification handshake, as it always answered it', () => {
    const s = spec({ signature: { scheme: 'slack', secretRef: { name: 's', key: 'k' } } });
    expect(route(s, { signingSecret: 'x' }).handshakes).toEqual([{ name: 'slack-url-verification' }]);
  });

  it('names the Secret key of the URL token, never the token', () => {
    const generated = spec({ urlToken: {} });
    const stored = { data: { urlToken: 'hgu_secret' }, annotations: {} };
    const status = credentialStatus(
      't',
      generatedParts(generated),
      stored,
      { urlToken: 'hgu_secret' },
      generated,
    );
    expect(status.urlTokenRef).toEqual({ name: 't-credentials', key: 'urlToken' });
    expect(JSON.stringify(status)).not.toContain('hgu_secret');
    const ref = { name: 'mine', key: 'token' };
    const referenced = spec({ urlToken: { secretRef: ref } });
    expect(credentialStatus('t', generatedParts(referenced), undefined, {}, referenced).urlTokenRef).toEqual(
      ref,
    );
  });
});
