import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { type Route, SignatureScheme } from '../../api/v1alpha1/index.ts';
import {
  DEFAULT_REPLAY_WINDOW_SECONDS,
  defaultIdempotency,
  replayWindowSeconds,
  type SignatureConfig,
  sign,
  VERIFY_REASONS,
  type VerifyReason,
  verify,
} from './index.ts';

const NOW = Date.UTC(2025, 0, 1, 12);
const HOUR = 3_600_000;
const BODY = Buffer.from('{"id":"evt_1","event_id":"Ev1","n":1}');
const CURRENT = `whsec_${Buffer.from('current-key-current-key-current!').toString('base64')}`;
const PREVIOUS = `whsec_${Buffer.from('previous-key-previous-key-previo').toString('base64')}`;
const TOKEN = 'hgt_Yq2v8N1mYJx3Kx0tq8n1bQ4sF5t0e6hV3Zr9wP2cUeA';
const SCHEMES = SignatureScheme.options;
const timestampedHeader = (secret: string, body: Buffer, t: number) =>
  `t=${t},v1=${createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex')}`;

/** Node hands handlers lower-cased header names. */
const lower = (headers: Record<string, string>): IncomingHttpHeaders =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
const check = (auth: Route['auth'], headers: Record<string, string>, now = NOW) =>
  verify(auth, { headers: lower(headers), body: BODY }, now);
const refused = (reason: VerifyReason) => ({ ok: false, reason });

describe('bearer token', () => {
  const auth = { tokens: [{ value: TOKEN }] };
  const cases: { name: string; headers: Record<string, string>; reason?: VerifyReason }[] = [
    { name: 'good', headers: { Authorization: `Bearer ${TOKEN}` } },
    { name: 'scheme in lower case', headers: { Authorization: `bearer ${TOKEN}` } },
    { name: 'wrong token', headers: { Authorization: 'Bearer hgt_nope' }, reason: 'invalid_token' },
    {
      name: 'truncated token',
      headers: { Authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      reason: 'invalid_token',
    },
    {
      name: 'token plus a space and more',
      headers: { Authorization: `Bearer ${TOKEN} x` },
      reason: 'invalid_token',
    },
    { name: 'no header', headers: {}, reason: 'missing_token' },
    { name: 'no token', headers: { Authorization: 'Bearer ' }, reason: 'missing_token' },
    { name: 'token without scheme', headers: { Authorization: TOKEN }, reason: 'missing_token' },
    { name: 'basic auth', headers: { Authorization: `Basic ${TOKEN}` }, reason: 'missing_token' },
  ];
  it.each(cases)('$name', ({ headers, reason }) => {
    expect(check(auth, headers)).toMatchObject(reason ? refused(reason) : { ok: true });
  });
});

it('reads a repeated header once: the first value, as Node does for well-known ones', () => {
  const auth = { signature: { scheme: 'shared-secret' as const, secrets: [{ value: TOKEN }] } };
  const headers = (...values: string[]) => ({ 'x-webhook-secret': values });
  expect(verify(auth, { headers: headers(TOKEN, 'x'), body: BODY }, NOW)).toMatchObject({ ok: true });
  expect(verify(auth, { headers: headers('x', TOKEN), body: BODY }, NOW)).toEqual(
    refused('invalid_signature'),
  );
});

describe('token and signature together', () => {
  const signature: SignatureConfig = {
    scheme: 'hmac-sha256',
    prefix: 'sha256=',
    secrets: [{ value: CURRENT }],
  };
  const auth = { tokens: [{ value: TOKEN }], signature };
  const good = { Authorization: `Bearer ${TOKEN}`, ...sign(signature, CURRENT, BODY, NOW) };
  const badSig = sign(signature, PREVIOUS, BODY, NOW);
  const cases: { name: string; headers: Record<string, string>; reason?: VerifyReason }[] = [
    { name: 'both good', headers: good },
    { name: 'token only', headers: { Authorization: good.Authorization }, reason: 'missing_signature' },
    { name: 'signature only', headers: sign(signature, CURRENT, BODY, NOW), reason: 'missing_token' },
    { name: 'bad token', headers: { ...good, Authorization: 'Bearer hgt_nope' }, reason: 'invalid_token' },
    { name: 'bad signature', headers: { ...good, ...badSig }, reason: 'invalid_signature' },
  ];
  it.each(cases)('$name', ({ headers, reason }) => {
    expect(check(auth, headers)).toMatchObject(reason ? refused(reason) : { ok: true });
  });

  it('refuses a route with neither', () => {
    expect(check({}, good)).toEqual(refused('not_configured'));
  });
});

describe('rotation', () => {
  const validUntil = new Date(NOW + HOUR).toISOString();
  const secrets = [{ value: CURRENT }, { value: PREVIOUS, validUntil }];

  describe.each(SCHEMES)('%s', (scheme) => {
    const signature: SignatureConfig = { scheme, secrets };
    const at = (secret: string, now: number) =>
      check({ signature }, sign(signature, secret, BODY, now, 'd-1'), now);

    it('accepts the previous secret before validUntil', () => {
      expect(at(PREVIOUS, NOW + HOUR - 1)).toMatchObject({ ok: true });
    });
    it('refuses the previous secret from validUntil on', () => {
      expect(at(PREVIOUS, NOW + HOUR)).toEqual(refused('invalid_signature'));
      expect(at(PREVIOUS, NOW + 2 * HOUR)).toEqual(refused('invalid_signature'));
    });
    it('keeps accepting the current secret', () => {
      expect(at(CURRENT, NOW)).toMatchObject({ ok: true });
      expect(at(CURRENT, NOW + 2 * HOUR)).toMatchObject({ ok: true });
    });
  });

  it('applies to tokens', () => {
    const auth = { tokens: [{ value: TOKEN }, { value: 'hgt_previous', validUntil }] };
    expect(check(auth, { Authorization: 'Bearer hgt_previous' }, NOW)).toMatchObject({ ok: true });
    expect(check(auth, { Authorization: 'Bearer hgt_previous' }, NOW + HOUR)).toEqual(
      refused('invalid_token'),
    );
    expect(check(auth, { Authorization: `Bearer ${TOKEN}` }, NOW + HOUR)).toMatchObject({ ok: true });
  });

  it('treats an unreadable validUntil as expired', () => {
    const auth = { tokens: [{ value: TOKEN, validUntil: 'tomorrow' }] };
    expect(check(auth, { Authorization: `Bearer ${TOKEN}` })).toEqual(refused('invalid_token'));
  });
});

describe('sign', () => {
  it.each(SCHEMES)('%s: what sign() writes, verify() accepts', (scheme) => {
    const signature: SignatureConfig = { scheme, secrets: [{ value: CURRENT }] };
    expect(check({ signature }, sign(signature, CURRENT, BODY, NOW))).toMatchObject({ ok: true });
  });

  it.each(SCHEMES)('%s: the delivery id lands where the ingress looks for it', (scheme) => {
    const headers = lower(sign({ scheme, secrets: [{ value: CURRENT }] }, CURRENT, BODY, NOW, 'd-42'));
    const source = defaultIdempotency(scheme);
    if ('header' in source) expect(headers[source.header.toLowerCase()]).toBe('d-42');
    else expect(Object.values(headers)).not.toContain('d-42');
  });

  it('sets no delivery header without an id', () => {
    expect(sign({ scheme: 'github', secrets: [{ value: CURRENT }] }, CURRENT, BODY, NOW)).not.toHaveProperty(
      'X-GitHub-Delivery',
    );
  });
});

describe('defaultIdempotency', () => {
  it.each([
    ['standard-webhooks', { header: 'webhook-id' }],
    ['github', { header: 'X-GitHub-Delivery' }],
    ['stripe', { field: 'id' }],
    ['slack', { field: 'event_id' }],
    ['hmac-sha256', { header: 'Idempotency-Key' }],
    ['timestamped', { header: 'Idempotency-Key' }],
    ['shared-secret', { header: 'Idempotency-Key' }],
    [undefined, { header: 'Idempotency-Key' }],
  ] as const)('%s', (scheme, expected) => {
    expect(defaultIdempotency(scheme)).toEqual(expected);
  });
});

it('reasons are a small closed set of label-safe words', () => {
  for (const reason of VERIFY_REASONS) expect(reason).toMatch(/^[a-z_]{1,32}$/);
});

describe('what a verified delivery is named by (replays)', () => {
  const signed = (scheme: SignatureScheme, headers: Record<string, string>, body = BODY, now = NOW) => {
    const result = verify(
      { signature: { scheme, secrets: [{ value: CURRENT }] } },
      { headers: lower(headers), body },
      now,
    );
    return result.ok ? result.signed : `refused: ${result.reason}`;
  };

  it.each(SCHEMES.filter((s) => s !== 'shared-secret'))(
    '%s: the same for a replay with other unsigned headers, another for another body',
    (scheme) => {
      const headers = sign({ scheme, secrets: [] }, CURRENT, BODY, NOW, 'id-1');
      const name = signed(scheme, headers);
      expect(name).toMatch(/^[0-9a-f]{64}$|^id-1$/);
      expect(signed(scheme, { ...headers, 'Idempotency-Key': 'new', 'X-GitHub-Delivery': 'new' })).toBe(name);
      const other = Buffer.from('{"n":2}');
      expect(signed(scheme, sign({ scheme, secrets: [] }, CURRENT, other, NOW, 'id-2'), other)).not.toBe(
        name,
      );
    },
  );

  it('standard-webhooks: the signed webhook-id, whatever the timestamp', () => {
    const sw = { scheme: 'standard-webhooks' as const, secrets: [] };
    expect(signed('standard-webhooks', sign(sw, CURRENT, BODY, NOW, 'msg_1'))).toBe('msg_1');
    expect(
      signed('standard-webhooks', sign(sw, CURRENT, BODY, NOW + 60_000, 'msg_1'), BODY, NOW + 60_000),
    ).toBe('msg_1');
  });

  it('timestamped: the signed message, so dropping one of two signatures (rotation) names the same delivery', () => {
    const t = Math.floor(NOW / 1000);
    const [a, b] = [timestampedHeader(CURRENT, BODY, t), timestampedHeader(PREVIOUS, BODY, t)];
    const both = `${a},${b.slice(b.indexOf('v1='))}`;
    const auth = {
      signature: { scheme: 'timestamped' as const, secrets: [{ value: CURRENT }, { value: PREVIOUS }] },
    };
    const named = (header: string) => {
      const r = verify(auth, { headers: { 'x-webhook-signature': header }, body: BODY }, NOW);
      return r.ok ? r.signed : undefined;
    };
    expect(named(both)).toBeDefined();
    expect(named(a)).toBe(named(both));
    expect(named(b)).toBe(named(both));
  });

  it('bearer and shared-secret sign nothing', () => {
    expect(
      verify(
        { tokens: [{ value: TOKEN }] },
        { headers: lower({ Authorization: `Bearer ${TOKEN}` }), body: BODY },
        NOW,
      ),
    ).toEqual({ ok: true });
    expect(signed('shared-secret', { 'X-Webhook-Secret': CURRENT })).toBeUndefined();
  });

  it.each([
    [undefined, undefined],
    [{ scheme: 'shared-secret' }, undefined],
    [{ scheme: 'github' }, DEFAULT_REPLAY_WINDOW_SECONDS],
    [{ scheme: 'hmac-sha256', replayWindowSeconds: 60 }, 60],
    [{ scheme: 'stripe' }, 300],
    [{ scheme: 'slack', toleranceSeconds: 30 }, 30],
    [{ scheme: 'standard-webhooks' }, 300],
    [{ scheme: 'timestamped', toleranceSeconds: 900 }, 900],
  ] as const)('replay window of %j: %s s', (signature, seconds) => {
    const config = signature && ({ ...signature, secrets: [{ value: CURRENT }] } as SignatureConfig);
    expect(replayWindowSeconds(config)).toBe(seconds);
  });
});
