// Revoking credentials now (issue 20): a rotation without the grace period, for a leaked credential.
import { describe, expect, it } from 'vitest';
import { CredentialKeys } from '../../../api/v1alpha1/index.ts';
import { counting, now } from './desired.test-helper.ts';
import { planCredentials, REVOKED_FOR, ROTATED_AT, ROTATED_FOR } from './desired.ts';

const HOUR = 3_600_000;
const both = { token: true, signingSecret: true };

const plan = (existing: Parameters<typeof planCredentials>[0]['existing'], more: object = {}) =>
  planCredentials({
    parts: both,
    existing,
    rotate: undefined,
    graceMs: 24 * HOUR,
    now,
    generate: counting(),
    ...more,
  })!;

const current = { token: 'hgt_leaked', signingSecret: 'whsec_leaked' };

describe('hookgate.io/revoke', () => {
  it('replaces every generated credential at once and keeps no previous one', () => {
    const p = plan({ data: { ...current }, annotations: {} }, { revoke: 'r1' });
    expect(p).toMatchObject({ write: 'update', revoked: true, rotated: false });
    expect(p.data).toEqual({ token: 'hgt_token1', signingSecret: 'whsec_secret2' });
    expect(p.requeueAfter).toBeUndefined();
    expect(p.annotations).toEqual({ [REVOKED_FOR]: 'r1', [ROTATED_AT]: '2026-03-01T12:00:00Z' });
  });

  it('also ends a rotation’s grace period: the previous credentials are dropped', () => {
    const inGrace = {
      ...current,
      [CredentialKeys.previousToken]: 'hgt_older',
      [CredentialKeys.previousSigningSecret]: 'whsec_older',
      [CredentialKeys.previousValidUntil]: new Date(now.getTime() + HOUR).toISOString(),
    };
    const p = plan({ data: inGrace, annotations: { [ROTATED_FOR]: 'r0' } }, { rotate: 'r0', revoke: 'x' });
    expect(p.data).toEqual({ token: 'hgt_token1', signingSecret: 'whsec_secret2' });
    expect(p.revoked).toBe(true);
  });

  it('wins over a rotation asked for at the same time, and answers it too', () => {
    const p = plan({ data: { ...current }, annotations: {} }, { rotate: 'r1', revoke: 'v1' });
    expect(p.data).toEqual({ token: 'hgt_token1', signingSecret: 'whsec_secret2' });
    expect(p.annotations).toMatchObject({ [ROTATED_FOR]: 'r1', [REVOKED_FOR]: 'v1' });
    expect(p.rotated).toBe(false);
  });

  it('acts once per value: the same value again (a restart, a re-apply) changes nothing', () => {
    const done = { data: { ...current }, annotations: { [REVOKED_FOR]: 'v1' } };
    const p = plan(done, { revoke: 'v1' });
    expect(p).toMatchObject({ write: 'none', revoked: false, data: current });
  });

  it('on a trigger without credentials yet, records the value and generates once', () => {
    const p = plan(undefined, { revoke: 'v1' });
    expect(p).toMatchObject({ write: 'create', revoked: false, generated: ['token', 'signingSecret'] });
    expect(p.annotations).toEqual({ [REVOKED_FOR]: 'v1' });
  });
});
