import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeLeases } from './fake-api.test-helper.ts';
import { LeaderElector } from './leader.ts';

const log = pino({ level: 'silent' });

function elector(leases: FakeLeases, identity: string, isUp?: () => boolean) {
  const state = { leading: false, lost: '' };
  const e = new LeaderElector({
    client: leases.client(identity, isUp),
    namespace: 'ns',
    name: 'lease',
    identity,
    log,
  });
  const done = e.run({
    onStartedLeading: () => {
      state.leading = true;
    },
    onLost: (reason) => {
      state.leading = false;
      state.lost = reason;
    },
  });
  return { e, state, done };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('LeaderElector', () => {
  it('lets exactly one of two electors lead at every moment', async () => {
    const leases = new FakeLeases();
    const a = elector(leases, 'a');
    const b = elector(leases, 'b');
    for (let t = 0; t < 60_000; t += 250) {
      await vi.advanceTimersByTimeAsync(250);
      const leaders = [a, b].filter((x) => x.e.isLeader);
      expect(leaders.length).toBe(1);
      expect(leases.holder).toBe(leaders[0]!.e.isLeader && (leaders[0] === a ? 'a' : 'b'));
    }
    // The leader renews; the other never writes after losing the race for creation.
    expect(new Set(leases.writes.slice(1))).toEqual(new Set([leases.holder]));
    await a.e.stop();
    await b.e.stop();
  });

  it('writes renewTime in the MicroTime format the API server requires', async () => {
    const leases = new FakeLeases();
    const a = elector(leases, 'a');
    await vi.advanceTimersByTimeAsync(10);
    expect(String(leases.lease?.spec?.renewTime)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    await a.e.stop();
  });

  it('hands over within a retry period when the leader releases the Lease', async () => {
    const leases = new FakeLeases();
    const a = elector(leases, 'a');
    await vi.advanceTimersByTimeAsync(10);
    const b = elector(leases, 'b');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(a.e.isLeader && !b.e.isLeader).toBe(true);
    await a.e.stop();
    await a.done;
    expect(leases.holder).toBeUndefined();
    await vi.advanceTimersByTimeAsync(2_500);
    expect(b.e.isLeader).toBe(true);
    expect(a.state.lost).toBe('');
    await b.e.stop();
  });

  it('takes over from a killed leader only after the lease duration', async () => {
    const leases = new FakeLeases();
    const a = elector(leases, 'a');
    await vi.advanceTimersByTimeAsync(10);
    const b = elector(leases, 'b');
    await vi.advanceTimersByTimeAsync(5_000);
    await a.e.stop({ release: false });
    const killedAt = Date.now();
    expect(leases.holder).toBe('a');
    await vi.advanceTimersByTimeAsync(12_000);
    expect(b.e.isLeader).toBe(false);
    await vi.waitUntil(
      async () => {
        await vi.advanceTimersByTimeAsync(100);
        return b.e.isLeader;
      },
      { timeout: 60_000 },
    );
    const took = Date.now() - killedAt;
    expect(took).toBeGreaterThanOrEqual(13_000); // a's last renewal was up to one retry period before
    expect(took).toBeLessThan(15_000 + 2_500);
    await b.e.stop();
  });

  it('a leader cut off from the API server stops before anyone else can start', async () => {
    const leases = new FakeLeases();
    let aUp = true;
    const a = elector(leases, 'a', () => aUp);
    await vi.advanceTimersByTimeAsync(10);
    const b = elector(leases, 'b');
    await vi.advanceTimersByTimeAsync(5_000);
    aUp = false;
    let aStopped = 0;
    let bStarted = 0;
    for (let t = 0; t < 30_000; t += 100) {
      await vi.advanceTimersByTimeAsync(100);
      if (!a.e.isLeader && !aStopped) aStopped = Date.now();
      if (b.e.isLeader && !bStarted) bStarted = Date.now();
      expect(a.e.isLeader && b.e.isLeader).toBe(false);
    }
    expect(a.state.lost).toMatch(/not renewed/);
    expect(aStopped).toBeGreaterThan(0);
    expect(bStarted).toBeGreaterThan(aStopped);
    await a.done;
    await b.e.stop();
  });

  it('loses at once when another holder shows up in the Lease', async () => {
    const leases = new FakeLeases();
    const a = elector(leases, 'a');
    await vi.advanceTimersByTimeAsync(10);
    const intruder = leases.client('x');
    const current = await intruder.read('ns', 'lease');
    await intruder.replace('ns', 'lease', { ...current, spec: { ...current.spec, holderIdentity: 'x' } });
    await vi.advanceTimersByTimeAsync(2_100);
    expect(a.e.isLeader).toBe(false);
    expect(a.state.lost).toMatch(/taken by x/);
    await a.done;
    // Deposed: it does not write the Lease again, not even to release it.
    const writes = leases.writes.length;
    await a.e.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(leases.writes.length).toBe(writes);
  });

  it('rejects timings that could let two leaders overlap', () => {
    const leases = new FakeLeases();
    expect(
      () =>
        new LeaderElector({
          client: leases.client('a'),
          namespace: 'ns',
          name: 'l',
          identity: 'a',
          leaseDurationMs: 10_000,
          renewDeadlineMs: 10_000,
          log,
        }),
    ).toThrow(/renewDeadline < leaseDuration/);
  });
});
