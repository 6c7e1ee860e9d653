import { describe, expect, it } from 'vitest';
import { markFailed, setCondition, summarize, timestamp } from './conditions.ts';

const t0 = new Date('2026-01-01T00:00:00.123Z');
const t1 = new Date('2026-01-01T01:00:00Z');

describe('setCondition', () => {
  const base = { type: 'Ready', status: 'True' as const, reason: 'Succeeded', message: 'ok' };

  it('adds a condition stamped with now, in whole seconds', () => {
    expect(setCondition([], base, t0)).toEqual([{ ...base, lastTransitionTime: '2026-01-01T00:00:00Z' }]);
  });

  it('keeps lastTransitionTime when only observedGeneration changes', () => {
    const first = setCondition([], { ...base, observedGeneration: 1 }, t0);
    const next = setCondition(first, { ...base, observedGeneration: 2 }, t1);
    expect(next[0]).toMatchObject({ observedGeneration: 2, lastTransitionTime: timestamp(t0) });
  });

  it.each([
    ['status', { status: 'False' as const }],
    ['reason', { reason: 'Other' }],
    ['message', { message: 'changed' }],
  ])('moves lastTransitionTime when %s changes', (_, change) => {
    const first = setCondition([], base, t0);
    expect(setCondition(first, { ...base, ...change }, t1)[0]!.lastTransitionTime).toBe(timestamp(t1));
  });

  it('replaces in place, so the order of conditions is stable', () => {
    const list = setCondition(setCondition([], base, t0), { ...base, type: 'Stalled' }, t0);
    expect(setCondition(list, { ...base, message: 'x' }, t1).map((c) => c.type)).toEqual([
      'Ready',
      'Stalled',
    ]);
  });
});

describe('summarize', () => {
  it('a ready object: Ready=True, Reconciling and Stalled False', () => {
    const list = summarize(undefined, { ready: true, reason: 'Succeeded', message: 'Serving' }, 3, t0);
    expect(list.map((c) => [c.type, c.status, c.reason, c.observedGeneration])).toEqual([
      ['Ready', 'True', 'Succeeded', 3],
      ['Reconciling', 'False', 'Succeeded', 3],
      ['Stalled', 'False', 'Succeeded', 3],
    ]);
  });

  it('a configuration error: Ready=False, Stalled=True with the reason and message', () => {
    const list = summarize(
      undefined,
      { ready: false, reason: 'WorkflowNotFound', message: 'm', stalled: true },
      1,
      t0,
    );
    expect(list.find((c) => c.type === 'Stalled')).toMatchObject({
      status: 'True',
      reason: 'WorkflowNotFound',
      message: 'm',
    });
    expect(list.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'WorkflowNotFound',
    });
    expect(list.find((c) => c.type === 'Reconciling')?.status).toBe('False');
  });

  it('is stable when nothing changed', () => {
    const s = { ready: true, reason: 'Succeeded', message: 'ok' };
    const first = summarize(undefined, s, 1, t0);
    expect(summarize(first, s, 1, t1)).toEqual(first);
  });

  it('drops conditions of other types', () => {
    const list = summarize(
      [{ type: 'Old', status: 'True', reason: 'x', message: '', lastTransitionTime: 'x' }],
      { ready: true, reason: 'Succeeded', message: '' },
      1,
      t0,
    );
    expect(list.map((c) => c.type)).toEqual(['Ready', 'Reconciling', 'Stalled']);
  });
});

describe('markFailed', () => {
  it('keeps the last Ready verdict and says why in Reconciling', () => {
    const ready = summarize(undefined, { ready: true, reason: 'Succeeded', message: 'ok' }, 1, t0);
    const list = markFailed(ready, 'apply Secret: HTTP 500', 1, t1);
    expect(list.find((c) => c.type === 'Ready')).toEqual(ready[0]);
    expect(list.find((c) => c.type === 'Reconciling')).toMatchObject({
      status: 'True',
      reason: 'ReconcileFailed',
      message: 'apply Secret: HTTP 500',
    });
    expect(list.find((c) => c.type === 'Stalled')?.status).toBe('False');
  });

  it('Ready=Unknown when there was no verdict yet', () => {
    expect(markFailed(undefined, 'boom', 1, t0).find((c) => c.type === 'Ready')).toMatchObject({
      status: 'Unknown',
    });
  });
});
