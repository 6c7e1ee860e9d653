import { describe, expect, it } from 'vitest';
import { fieldValues, stripField, verifyBasic, verifyBodySecret, verifyUrlToken } from './credentials.ts';

const basic = (credentials: string) => ({
  headers: { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` },
});

describe('verifyBasic', () => {
  const values = ['alertmanager:s3cr3t-pa55', 'old:previous'];
  it.each([
    ['the current credential', basic('alertmanager:s3cr3t-pa55'), true],
    ['the previous one', basic('old:previous'), true],
    ['the scheme in any case', { headers: { authorization: `bAsIc ${btoa('old:previous')}` } }, true],
    ['another password', basic('alertmanager:s3cr3t-pa56'), false],
    ['the user alone', basic('alertmanager'), false],
    ['the parts of two credentials', basic('alertmanager:previous'), false],
  ])('%s', (_, req, ok) => {
    expect(verifyBasic(values, req)).toEqual(ok ? { ok: true } : { ok: false, reason: 'invalid_basic_auth' });
  });

  it.each([
    ['no header', {}],
    ['a bearer token', { authorization: 'Bearer alertmanager:s3cr3t-pa55' }],
    ['not base64', { authorization: 'Basic alertmanager:s3cr3t-pa55' }],
    ['nothing after the scheme', { authorization: 'Basic ' }],
  ])('missing for %s', (_, headers) => {
    expect(verifyBasic(values, { headers })).toEqual({ ok: false, reason: 'missing_basic_auth' });
  });
});

describe('verifyUrlToken', () => {
  it('accepts any value still valid, and names what is wrong otherwise', () => {
    expect(verifyUrlToken(['hgu_a', 'hgu_b'], 'hgu_b')).toEqual({ ok: true });
    expect(verifyUrlToken(['hgu_a'], 'hgu_')).toEqual({ ok: false, reason: 'invalid_url_token' });
    expect(verifyUrlToken(['hgu_a'], undefined)).toEqual({ ok: false, reason: 'missing_url_token' });
    expect(verifyUrlToken([], 'hgu_a')).toEqual({ ok: false, reason: 'invalid_url_token' });
  });
});

describe('body secrets (Microsoft Graph clientState)', () => {
  const graph = (...states: unknown[]) => ({
    value: states.map((clientState, i) => ({ subscriptionId: `s${i}`, changeType: 'created', clientState })),
  });
  const FIELD = 'value.*.clientState';

  it('every notification must carry one of the secrets', () => {
    expect(verifyBodySecret(['hgs_a', 'hgs_b'], graph('hgs_a', 'hgs_b'), FIELD)).toEqual({ ok: true });
    expect(verifyBodySecret(['hgs_a'], graph('hgs_a', 'hgs_x'), FIELD)).toEqual({
      ok: false,
      reason: 'invalid_body_secret',
    });
    expect(verifyBodySecret(['hgs_a'], graph('hgs_a', 7), FIELD).ok).toBe(false);
    expect(verifyBodySecret(['hgs_a'], { value: [{ subscriptionId: 's' }] }, FIELD)).toEqual({
      ok: false,
      reason: 'missing_body_secret',
    });
    expect(verifyBodySecret(['hgs_a'], graph(), FIELD).ok).toBe(false);
    expect(verifyBodySecret(['hgs_a'], { value: { clientState: 'hgs_a' } }, FIELD).ok).toBe(false);
  });

  it('reads own fields only, never the prototype', () => {
    expect(fieldValues({ value: [{}] }, 'value.*.constructor')).toEqual([]);
    expect(fieldValues(JSON.parse('{"__proto__":{"s":"x"}}'), '__proto__.s')).toEqual(['x']);
  });

  it('walks an array longer than a call may have arguments (no stack overflow)', () => {
    const big = { value: Array.from({ length: 200_000 }, () => ({ clientState: 'hgs_a' })) };
    expect(verifyBodySecret(['hgs_a'], big, FIELD)).toEqual({ ok: true });
  });

  it('fails as soon as there are more distinct values than secrets, without comparing them all', () => {
    const many = { value: Array.from({ length: 10_000 }, (_, i) => ({ clientState: `hgs_${i}` })) };
    expect(verifyBodySecret(['hgs_0', 'hgs_1'], many, FIELD)).toEqual({
      ok: false,
      reason: 'invalid_body_secret',
    });
  });

  it('strips the secret from the payload, and nothing else', () => {
    const payload = graph('hgs_a', 'hgs_a');
    stripField(payload, FIELD);
    expect(payload).toEqual({
      value: [
        { subscriptionId: 's0', changeType: 'created' },
        { subscriptionId: 's1', changeType: 'created' },
      ],
    });
    const top = { clientState: 'x', keep: 1 };
    stripField(top, 'clientState');
    expect(top).toEqual({ keep: 1 });
  });
});
