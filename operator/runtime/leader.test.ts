import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { KubeClient } from '../../lib/kube.ts';
import { LeaderElector, leaseClient } from './leader.ts';

// Election itself is proven against a real API server (test/leader-election.test.ts).

describe('LeaderElector', () => {
  it('rejects timings that could let two leaders overlap', () => {
    // Never contacted: the constructor refuses the timings first.
    const kc = new KubeConfig();
    kc.loadFromClusterAndUser(
      { name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: false },
      { name: 'u' },
    );
    const elector = (leaseDurationMs: number, renewDeadlineMs: number, retryPeriodMs: number) =>
      new LeaderElector({
        client: leaseClient(new KubeClient(kc)),
        namespace: 'ns',
        name: 'l',
        identity: 'a',
        leaseDurationMs,
        renewDeadlineMs,
        retryPeriodMs,
        log: pino({ level: 'silent' }),
      });
    expect(() => elector(10_000, 10_000, 2_000)).toThrow(/renewDeadline < leaseDuration/);
    expect(() => elector(15_000, 10_000, 10_000)).toThrow(/retryPeriod < renewDeadline/);
    expect(() => elector(15_000, 10_000, 2_000)).not.toThrow();
  });
});
