import { timingSafeEqual } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SignatureScheme } from '../../api/v1alpha1/index.ts';
import { type SignatureConfig, sign, verify } from './index.ts';

// Timing cannot be asserted; that every comparison goes through timingSafeEqual on two fixed-length
// digests can.
vi.mock('node:crypto', async (importOriginal) => {
  const crypto = await importOriginal<typeof import('node:crypto')>();
  return { ...crypto, timingSafeEqual: vi.fn(crypto.timingSafeEqual) };
});

const NOW = Date.UTC(2025, 0, 1);
const BODY = Buffer.from('{}');
const SECRET = `whsec_${Buffer.from('k'.repeat(32)).toString('base64')}`;
const lengths = () => vi.mocked(timingSafeEqual).mock.calls.map(([a, b]) => [a.byteLength, b.byteLength]);

afterEach(() => {
  vi.mocked(timingSafeEqual).mockClear();
});

describe('every comparison is constant-time over 32-byte digests', () => {
  it('bearer token, even of another length', () => {
    verify(
      { tokens: [{ value: 'hgt_token' }] },
      { headers: { authorization: 'Bearer hgt_token-longer' }, body: BODY },
      NOW,
    );
    expect(lengths()).toEqual([[32, 32]]);
  });

  // Every named scheme, a new one too ('hmac' signs nothing without a configuration of its own).
  it.each(SignatureScheme.options.filter((s) => s !== 'hmac'))('%s', (scheme) => {
    const signature: SignatureConfig = { scheme, secrets: [{ value: SECRET }] };
    const headers = Object.fromEntries(
      Object.entries(sign(signature, SECRET, BODY, NOW)).map(([k, v]) => [k.toLowerCase(), v]),
    );
    expect(verify({ signature }, { headers, body: BODY }, NOW)).toMatchObject({ ok: true });
    expect(lengths()).toEqual([[32, 32]]);
  });
});
