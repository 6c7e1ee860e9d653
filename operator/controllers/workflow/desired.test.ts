import type { V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { WorkflowSpec } from '../../../api/v1alpha1/index.ts';
import { planRuns, runOf, templateProblem, trimJobMessage } from './desired.ts';

const wfSpec = (podSpec: object, extra: object = {}) =>
  WorkflowSpec.parse({
    jobTemplate: {
      metadata: { labels: { team: 'a' } },
      spec: { backoffLimit: 0, template: { spec: podSpec } },
    },
    ...extra,
  });
const pod = { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] };

describe('templateProblem', () => {
  it.each(['Never', 'OnFailure'])('accepts restartPolicy %s', (restartPolicy) => {
    expect(templateProblem(wfSpec({ ...pod, restartPolicy }))).toBeUndefined();
  });
  it.each([['Always'], [undefined]])('rejects restartPolicy %s', (restartPolicy) => {
    expect(templateProblem(wfSpec({ ...pod, restartPolicy }))).toMatch(
      /restartPolicy must be Never or OnFailure/,
    );
  });
});

it('trimJobMessage drops the generated Job name', () => {
  expect(
    trimJobMessage('Job.batch "build-validate" is invalid: spec.template.spec.containers: Required value'),
  ).toBe('spec.template.spec.containers: Required value');
});

function job(
  name: string,
  created: string,
  state: 'Running' | 'Succeeded' | 'Failed',
  extra: Partial<V1Job> = {},
): V1Job {
  const done = '2026-01-01T00:10:00Z';
  return {
    metadata: {
      name,
      namespace: 'ns',
      creationTimestamp: created as unknown as Date,
      labels: { 'hookgate.io/workflow': 'build', 'hookgate.io/trigger': 'gh' },
      annotations: { 'hookgate.io/delivery-id': `d-${name}` },
    },
    status: {
      startTime: created as unknown as Date,
      ...(state === 'Succeeded'
        ? {
            completionTime: done as unknown as Date,
            conditions: [
              { type: 'SuccessCriteriaMet', status: 'True' },
              { type: 'Complete', status: 'True', lastTransitionTime: done as unknown as Date },
            ],
          }
        : state === 'Failed'
          ? {
              conditions: [
                { type: 'FailureTarget', status: 'True' },
                {
                  type: 'Failed',
                  status: 'True',
                  lastTransitionTime: done as unknown as Date,
                  message: 'Job has reached the specified backoff limit',
                },
              ],
            }
          : {}),
    },
    ...extra,
  } as V1Job;
}

describe('runOf', () => {
  it('reads name, trigger, delivery id, times and result', () => {
    expect(runOf(job('a', '2026-01-01T00:00:00Z', 'Succeeded'))).toEqual({
      name: 'a',
      trigger: 'gh',
      deliveryId: 'd-a',
      startTime: '2026-01-01T00:00:00Z',
      completionTime: '2026-01-01T00:10:00Z',
      result: 'Succeeded',
    });
  });
  it('a failed run: completion from the Failed condition, its message until the result is published', () => {
    expect(runOf(job('a', '2026-01-01T00:00:00Z', 'Failed'))).toMatchObject({
      result: 'Failed',
      completionTime: '2026-01-01T00:10:00Z',
      message: 'Job has reached the specified backoff limit',
    });
    const published = job('a', '2026-01-01T00:00:00Z', 'Failed');
    published.metadata!.annotations!['hookgate.io/result'] = '{"exitCode":3,"message":"disk full"}';
    expect(runOf(published).message).toBe('disk full');
  });
  it('a running Job (only FailureTarget so far) is Running', () => {
    const j = job('a', '2026-01-01T00:00:00Z', 'Running', {
      status: { conditions: [{ type: 'FailureTarget', status: 'True' } as never] },
    });
    expect(runOf(j).result).toBe('Running');
  });
  it('accepts Date timestamps too', () => {
    const j = job('a', '2026-01-01T00:00:00Z', 'Running');
    j.status!.startTime = new Date('2026-01-01T00:00:00.500Z');
    expect(runOf(j).startTime).toBe('2026-01-01T00:00:00Z');
  });
});

const NOW = new Date('2026-01-01T01:00:00Z');

describe('planRuns', () => {
  const limits = { successfulRunsHistoryLimit: 2, failedRunsHistoryLimit: 1 };
  const t = (m: number) => `2026-01-01T00:0${m}:00Z`;
  const jobs = [
    job('s1', t(1), 'Succeeded'),
    job('f1', t(2), 'Failed'),
    job('s2', t(3), 'Succeeded'),
    job('f2', t(4), 'Failed'),
    job('s3', t(5), 'Succeeded'),
    job('r1', t(6), 'Running'),
    job('r2', t(7), 'Running'),
  ];

  it('prunes finished runs beyond the limits, oldest first; keeps running ones', () => {
    const plan = planRuns(jobs, limits, {}, NOW);
    expect(plan.prune).toEqual(['s1', 'f1']);
    expect(plan.recentRuns.map((r) => r.name)).toEqual(['r2', 'r1', 's3', 'f2', 's2']);
    expect(plan.active.map((r) => r.name)).toEqual(['r1', 'r2']);
    expect(plan.lastRunTime).toBe(t(7));
  });

  it('limit 0 keeps no finished runs of that kind', () => {
    const plan = planRuns(jobs, { successfulRunsHistoryLimit: 0, failedRunsHistoryLimit: 0 }, {}, NOW);
    expect(plan.prune).toEqual(['s1', 'f1', 's2', 'f2', 's3']);
  });

  it('without limits (invalid spec) prunes nothing', () => {
    expect(planRuns(jobs, undefined, {}, NOW).prune).toEqual([]);
  });

  it('lastRunTime never goes back when old Jobs are gone', () => {
    expect(planRuns([job('a', t(1), 'Succeeded')], limits, { lastRunTime: t(9) }, NOW).lastRunTime).toBe(
      t(9),
    );
    expect(planRuns([], limits, {}, NOW).lastRunTime).toBeUndefined();
  });

  it('ignores Jobs being deleted', () => {
    const gone = job('x', t(8), 'Running', { metadata: { name: 'x', deletionTimestamp: new Date() } });
    expect(planRuns([gone], limits, {}, NOW).recentRuns).toEqual([]);
  });

  it('lists kept finished runs whose result is not on their Job yet', () => {
    expect(planRuns(jobs, limits, {}, NOW).publish).toEqual(['s3', 'f2', 's2']);
    const published = jobs.map((j) =>
      j.metadata?.name === 'f2'
        ? { ...j, metadata: { ...j.metadata, annotations: { 'hookgate.io/result': '{}' } } }
        : j,
    );
    expect(planRuns(published, limits, {}, NOW).publish).toEqual(['s3', 's2']);
  });

  it('keeps a Job past the limits until its replay record expires, out of status', () => {
    const until = (j: V1Job, at: string): V1Job => ({
      ...j,
      metadata: {
        ...j.metadata,
        annotations: { ...j.metadata?.annotations, 'hookgate.io/replay-until': at },
      },
    });
    const withRecord = [until(jobs[0]!, '2026-01-01T01:00:30Z'), ...jobs.slice(1)];
    const plan = planRuns(withRecord, limits, {}, NOW);
    expect(plan.prune).toEqual(['f1']);
    expect(plan.retryPruneAfter).toBe(30_000);
    expect(plan.recentRuns.map((r) => r.name)).not.toContain('s1');
    expect(planRuns(withRecord, limits, {}, new Date('2026-01-01T01:00:30Z')).prune).toEqual(['s1', 'f1']);
  });

  it('caps recentRuns at 100', () => {
    const many = Array.from({ length: 150 }, (_, i) =>
      job(`r${i}`, `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}Z`, 'Running'),
    );
    expect(planRuns(many, limits, {}, NOW).recentRuns).toHaveLength(100);
  });
});
