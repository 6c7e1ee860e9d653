import { describe, expect, it } from 'vitest';
import { StalledError, UnavailableError, verdictOf, WaitingError } from './errors.ts';

describe('verdictOf', () => {
  it('a stalled error: not Ready, Stalled, no requeue', () => {
    expect(verdictOf(new StalledError('InvalidSpec', 'm'))).toEqual({
      summary: { ready: false, reason: 'InvalidSpec', message: 'm', stalled: true },
    });
  });

  it('a waiting error: not Ready, Reconciling, its requeue interval', () => {
    expect(verdictOf(new WaitingError('Progressing', 'm', 2000))).toEqual({
      summary: { ready: false, reason: 'Progressing', message: 'm', reconciling: true },
      requeueAfter: 2000,
    });
  });

  it('an unavailable object says what its verdict says; the public message stays out of status', () => {
    const err = new UnavailableError(new StalledError('SecretNotFound', 'Secret s not found'), 'fix it');
    expect(err.reason).toBe('SecretNotFound');
    expect(verdictOf(err)?.summary).toEqual({
      ready: false,
      reason: 'SecretNotFound',
      message: 'Secret s not found',
      stalled: true,
    });
  });

  it('anything else is transient: no verdict, the queue retries it', () => {
    expect(verdictOf(new Error('HTTP 500'))).toBeUndefined();
    expect(verdictOf('boom')).toBeUndefined();
  });
});
