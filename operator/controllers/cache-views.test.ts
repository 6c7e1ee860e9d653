// The cache views of lib/ keep what the operator's readers (runOf, the route) need.
import type { V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { Annotations, WebhookTriggerSpec, WorkflowSpec } from '../../api/v1alpha1/index.ts';
import { runView, withCommonStrings, withoutLastApplied } from '../../lib/cache-views.ts';
import { buildRun, finishedAs, hasRun, publishedTermination, runSeconds, terminal } from '../../lib/run.ts';
import { desiredRoute } from './webhooktrigger/desired.ts';
import { runOf } from './workflow/desired.ts';

const route = desiredRoute({
  trigger: {
    namespace: 'ns',
    name: 'hook',
    uid: 'trigger-uid',
    generation: 1,
    spec: WebhookTriggerSpec.parse({ workflowRef: { name: 'wf' }, auth: { bearer: {} } }),
  },
  workflow: {
    name: 'wf',
    uid: 'wf-uid',
    spec: WorkflowSpec.parse({
      jobTemplate: {
        spec: {
          backoffLimit: 0,
          template: {
            spec: {
              restartPolicy: 'Never',
              containers: [
                { name: 'main', image: 'busybox:1.37', command: ['sh', '-c', 'cat "$HOOKGATE_INPUT_FILE"'] },
              ],
            },
          },
        },
      },
    }),
  },
  credentials: { token: 'hgt_x' },
});

/** A run's Job as the API server sends it once finished. */
function finished(type: 'Complete' | 'Failed'): V1Job {
  const { job } = buildRun({ route, deliveryId: 'd-1', input: { hello: 'world' } });
  const at = '2026-12-01T10:00:05Z';
  return {
    ...job,
    metadata: {
      ...job.metadata,
      uid: 'job-uid',
      resourceVersion: '42',
      creationTimestamp: '2026-12-01T10:00:00Z' as unknown as Date,
      annotations: {
        ...job.metadata?.annotations,
        [Annotations.result]: '{"exitCode":3,"message":"boom"}',
        'example.com/other': 'x'.repeat(500),
      },
    },
    status: {
      startTime: '2026-12-01T10:00:01Z' as unknown as Date,
      ...(type === 'Complete' ? { completionTime: at as unknown as Date, succeeded: 1 } : { failed: 1 }),
      uncountedTerminatedPods: {},
      ready: 0,
      terminating: 0,
      conditions: [
        {
          type: type === 'Complete' ? 'SuccessCriteriaMet' : 'FailureTarget',
          status: 'True',
          reason: 'R',
          message: 'm',
          lastProbeTime: at as unknown as Date,
          lastTransitionTime: at as unknown as Date,
        },
        {
          type,
          status: 'True',
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
          lastProbeTime: at as unknown as Date,
          lastTransitionTime: at as unknown as Date,
        },
      ],
    },
  };
}

describe('runView', () => {
  it.each(['Complete', 'Failed'] as const)(
    'keeps all that is read of a %s run, and much less than the Job',
    (type) => {
      const job = finished(type);
      const view = runView(job);
      expect(runOf(view)).toEqual(runOf(job));
      expect(finishedAs(view)).toBe(finishedAs(job));
      expect(terminal(view)?.condition.lastTransitionTime).toBe(terminal(job)?.condition.lastTransitionTime);
      expect(runSeconds(view)).toBe(runSeconds(job));
      expect(publishedTermination(view)).toEqual(publishedTermination(job));
      expect(hasRun(view)).toBe(true);
      // Of the conditions, the one it ended with: the one before it is what the API server sets first.
      expect(view.status?.conditions?.map((c) => c.type)).toEqual([type]);
      expect(view.metadata?.ownerReferences).toEqual(job.metadata?.ownerReferences);
      const { 'app.kubernetes.io/managed-by': _, ...read } = job.metadata!.labels!;
      expect(view.metadata?.labels).toEqual(read);
      expect(view.metadata?.annotations?.['example.com/other']).toBeUndefined();
      expect(view.spec).toBeUndefined();
      expect(JSON.stringify(view).length).toBeLessThan(JSON.stringify(job).length / 2);
    },
  );
});

it('keeps of a forged run (any Job labelled as one) no more than a real one: bounded whatever it carries', () => {
  const { job } = buildRun({ route, deliveryId: 'd-3', input: {} });
  const pad = 'x'.repeat(200 * 1024);
  const forged: V1Job = {
    ...job,
    metadata: {
      ...job.metadata,
      labels: {
        ...job.metadata?.labels,
        ...Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`hookgate.io/l${i}`, 'v'.repeat(63)])),
      },
      annotations: {
        'hookgate.io/pad': pad,
        [Annotations.result]: pad,
        [Annotations.deliveryId]: pad,
        [Annotations.replayUntil]: pad,
      },
      ownerReferences: Array.from({ length: 500 }, (_, i) => ({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        name: `c${i}`,
        uid: `u${i}`,
        controller: i === 499,
      })),
    },
    status: {
      conditions: Array.from({ length: 1000 }, () => ({
        type: 'Failed',
        status: 'True',
        message: pad,
      })) as never,
    },
  };
  const view = runView(forged);
  expect(JSON.stringify(view).length).toBeLessThan(48 * 1024);
  expect(view.metadata?.annotations).toBeUndefined();
  expect(Object.keys(view.metadata?.labels ?? {})).toEqual([
    'hookgate.io/workflow',
    'hookgate.io/trigger',
    'hookgate.io/delivery',
  ]);
  expect(view.metadata?.ownerReferences).toEqual([forged.metadata!.ownerReferences![499]]);
});

it('keeps that a run is running (a repeat of its delivery is answered from the cache)', () => {
  const { job } = buildRun({ route, deliveryId: 'd-2', input: {} });
  const running = { ...job, status: { active: 1, ready: 1 } };
  expect(hasRun(running)).toBe(true);
  expect(hasRun(runView(running))).toBe(true);
  expect(hasRun(runView({ ...job, status: { active: 1, ready: 0 } }))).toBe(false);
});

describe('withoutLastApplied', () => {
  it("drops kubectl's copy of the object and nothing else", () => {
    const obj = {
      metadata: {
        name: 'a',
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', 'hookgate.io/rotate': '1' },
      },
    };
    expect(withoutLastApplied(obj)).toEqual({
      metadata: { name: 'a', annotations: { 'hookgate.io/rotate': '1' } },
    });
    const plain = { metadata: { name: 'b' } };
    expect(withoutLastApplied(plain)).toBe(plain);
  });
});

describe('withCommonStrings', () => {
  it('leaves the object as it was (only which copy of an equal string it holds changes)', () => {
    const trigger = {
      apiVersion: 'hookgate.io/v1alpha1',
      kind: 'WebhookTrigger',
      metadata: { name: 't', namespace: 'ns' },
      status: {
        conditions: [
          { type: 'Ready', status: 'True', reason: 'Succeeded', message: 'm', lastTransitionTime: 'x' },
          { type: 'Stalled', status: 'False' },
          'not a condition',
        ],
      },
    };
    const before = structuredClone(trigger);
    expect(withCommonStrings(trigger)).toStrictEqual(before);
    const bare = { metadata: { name: 'b' } };
    expect(withCommonStrings(bare)).toStrictEqual({ metadata: { name: 'b' } });
  });
});
