import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { workflowChangedForTriggers } from './index.ts';

const workflow = (over: { generation?: number; uid?: string; ready?: object; status?: object } = {}) =>
  ({
    metadata: { namespace: 'ns', name: 'wf', uid: over.uid ?? 'u1', generation: over.generation ?? 1 },
    spec: {},
    status: {
      conditions: [
        { type: 'Ready', status: 'True', reason: 'Succeeded', message: 'ok', ...over.ready },
        { type: 'Stalled', status: 'False', reason: 'Succeeded', message: '' },
      ],
      recentRuns: [],
      ...over.status,
    },
  }) as KubernetesObject;

describe('workflowChangedForTriggers', () => {
  it('is false for an update of the runs in status only', () => {
    const runs = { recentRuns: [{ name: 'r-1', result: 'Succeeded' }], active: [], lastRunTime: 'x' };
    expect(workflowChangedForTriggers(workflow(), workflow({ status: runs }))).toBe(false);
  });

  it('is true when the spec (generation), the uid or the Ready or Stalled verdict changed', () => {
    const base = workflow();
    expect(workflowChangedForTriggers(base, workflow({ generation: 2 }))).toBe(true);
    expect(workflowChangedForTriggers(base, workflow({ uid: 'u2' }))).toBe(true);
    expect(workflowChangedForTriggers(base, workflow({ ready: { status: 'False' } }))).toBe(true);
    expect(workflowChangedForTriggers(base, workflow({ ready: { message: 'other' } }))).toBe(true);
    const stalled = workflow({
      status: { conditions: [{ type: 'Stalled', status: 'True', reason: 'InvalidSpec', message: '' }] },
    });
    expect(workflowChangedForTriggers(base, stalled)).toBe(true);
  });
});
