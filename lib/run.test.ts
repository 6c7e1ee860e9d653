import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Route } from '../api/v1alpha1/index.ts';
import { testRoute } from './route.test-helper.ts';
import {
  buildRun,
  Env,
  escapeEnv,
  finishedAs,
  INPUT_KEY,
  INPUT_VOLUME,
  InputTooLargeError,
  MAX_INPUT_BYTES,
  publishedTermination,
  runName,
  termination,
  VALIDATION_DELIVERY,
  validationRun,
} from './run.ts';

function route(workflow: Record<string, unknown> = {}, name = 'deploy'): Route {
  return testRoute(
    {
      jobTemplate: {
        metadata: {
          labels: { team: 'a', 'app.kubernetes.io/managed-by': 'someone-else' },
          annotations: { note: 'x' },
        },
        spec: {
          backoffLimit: 2,
          futureField: { kept: true },
          template: {
            metadata: { annotations: { 'pod-note': 'y' } },
            spec: {
              restartPolicy: 'Never',
              initContainers: [{ name: 'init', image: 'busybox' }],
              containers: [
                {
                  name: 'main',
                  image: 'alpine',
                  env: [
                    { name: 'A', value: '1' },
                    { name: Env.run, value: 'stale' },
                  ],
                },
                { name: 'sidecar', image: 'alpine' },
              ],
            },
          },
        },
      },
      ...workflow,
    },
    name,
  );
}

const delivery = (r = route(), deliveryId = 'd-1', input: unknown = { ref: 'main' }) => ({
  route: r,
  deliveryId,
  input,
});

describe('runName', () => {
  it('is stable for a trigger and delivery', () => {
    expect(runName('ns', 'deploy', 'abc')).toBe(runName('ns', 'deploy', 'abc'));
    expect(runName('ns', 'deploy', 'abc')).toMatch(/^deploy-[0-9a-f]{16}$/);
  });

  it('differs by namespace, trigger and delivery', () => {
    const names = new Set([
      runName('ns', 'deploy', 'abc'),
      runName('ns2', 'deploy', 'abc'),
      runName('ns', 'deploy2', 'abc'),
      runName('ns', 'deploy', 'abd'),
      // the separator keeps "<ns>/<trigger>" and the id apart
      runName('ns', 'deploy\nx', 'abc'),
    ]);
    expect(names.size).toBe(5);
  });

  it('is a DNS label of at most 63 characters for any trigger name', () => {
    const long = `${'a.b-'.repeat(60)}z`;
    for (const trigger of [long, 'a', 'x'.repeat(253), `${'y'.repeat(39)}.z`]) {
      const name = runName('ns', trigger, 'id');
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
  });
});

describe('buildRun', () => {
  it('names, labels, annotates and owns the Job', () => {
    const { job } = buildRun(delivery());
    const name = runName('team-a', 'deploy', 'd-1');
    expect(job.metadata).toMatchObject({
      name,
      namespace: 'team-a',
      labels: {
        team: 'a',
        'app.kubernetes.io/managed-by': 'hookgate',
        'hookgate.io/workflow': 'build',
        'hookgate.io/trigger': 'deploy',
      },
      annotations: { note: 'x', 'hookgate.io/delivery-id': 'd-1' },
      ownerReferences: [
        {
          apiVersion: 'hookgate.io/v1alpha1',
          kind: 'Workflow',
          name: 'build',
          uid: 'workflow-uid',
          controller: true,
        },
      ],
    });
    expect(job.metadata?.labels?.['hookgate.io/delivery']).toMatch(/^[0-9a-f]{63}$/);
  });

  it('keeps the template, including fields the client models do not know', () => {
    const { job } = buildRun(delivery());
    expect(job.spec).toMatchObject({ backoffLimit: 2, futureField: { kept: true } });
    expect(job.spec?.template.metadata?.annotations).toEqual({ 'pod-note': 'y' });
    expect(job.spec?.template.spec?.restartPolicy).toBe('Never');
  });

  it('does not touch the route it was built from', () => {
    const r = route();
    const before = structuredClone(r);
    buildRun(delivery(r));
    expect(r).toEqual(before);
  });

  it('mounts the input and sets the env in every container by default', () => {
    const { job } = buildRun(delivery());
    const pod = job.spec!.template.spec!;
    const name = runName('team-a', 'deploy', 'd-1');
    expect(pod.volumes).toEqual([
      {
        name: INPUT_VOLUME,
        secret: { secretName: `${name}-input`, items: [{ key: INPUT_KEY, path: 'input.json' }] },
      },
    ]);
    for (const c of [...pod.initContainers!, ...pod.containers]) {
      expect(c.volumeMounts).toEqual([
        { name: INPUT_VOLUME, mountPath: '/var/run/hookgate', readOnly: true },
      ]);
      const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
      expect(env).toMatchObject({
        [Env.run]: name,
        [Env.trigger]: 'deploy',
        [Env.workflow]: 'build',
        [Env.deliveryId]: 'd-1',
        [Env.inputFile]: '/var/run/hookgate/input.json',
      });
    }
    const main = pod.containers[0]!;
    expect(main.env?.filter((e) => e.name === Env.run)).toHaveLength(1);
    expect(main.env?.[0]).toEqual({ name: 'A', value: '1' });
  });

  it('mounts only in the chosen containers, at the chosen path', () => {
    const { job } = buildRun(
      delivery(route({ input: { path: '/work/in/payload.json', containers: ['sidecar'] } })),
    );
    const pod = job.spec!.template.spec!;
    expect(pod.volumes?.[0]?.secret?.items).toEqual([{ key: INPUT_KEY, path: 'payload.json' }]);
    const sidecar = pod.containers.find((c) => c.name === 'sidecar')!;
    expect(sidecar.volumeMounts).toEqual([{ name: INPUT_VOLUME, mountPath: '/work/in', readOnly: true }]);
    expect(sidecar.env?.find((e) => e.name === Env.inputFile)?.value).toBe('/work/in/payload.json');
    expect(pod.containers.find((c) => c.name === 'main')!.volumeMounts).toBeUndefined();
    expect(pod.initContainers![0]!.env).toBeUndefined();
  });

  it('builds the input Secret owned by the Job, with compact JSON', () => {
    const { job, inputSecret } = buildRun(delivery(route(), 'd-1', { a: 1, b: [1, 2], _query: { x: 'y' } }));
    const secret = inputSecret('job-uid');
    expect(secret.metadata).toMatchObject({
      name: `${job.metadata!.name}-input`,
      namespace: 'team-a',
      ownerReferences: [
        { apiVersion: 'batch/v1', kind: 'Job', name: job.metadata!.name, uid: 'job-uid', controller: true },
      ],
    });
    expect(Buffer.from(secret.data![INPUT_KEY]!, 'base64').toString()).toBe(
      '{"a":1,"b":[1,2],"_query":{"x":"y"}}',
    );
  });

  it('cuts long names to valid label values', () => {
    const long = `${'t'.repeat(62)}.x${'t'.repeat(20)}`;
    const { job } = buildRun(delivery(route({}, long)));
    expect(job.metadata!.labels!['hookgate.io/trigger']).toBe('t'.repeat(62));
  });

  it('refuses an input larger than a Secret holds, before building anything', () => {
    const big = { s: 'x'.repeat(MAX_INPUT_BYTES) };
    expect(() => buildRun(delivery(route(), 'd', big))).toThrow(InputTooLargeError);
    const exact = 'x'.repeat(MAX_INPUT_BYTES - 2); // JSON adds the quotes
    expect(() => buildRun(delivery(route(), 'd', exact))).not.toThrow();
    expect(() => buildRun(delivery(route(), 'd', { s: 'é'.repeat(10) }), 20)).toThrow(InputTooLargeError);
  });
});

describe('finishedAs and termination', () => {
  it('reads only terminal conditions', () => {
    const job = (type: string, s = 'True'): V1Job => ({ status: { conditions: [{ type, status: s }] } });
    expect(finishedAs(job('Complete'))).toBe('Succeeded');
    expect(finishedAs(job('Failed'))).toBe('Failed');
    expect(finishedAs(job('Failed', 'False'))).toBeUndefined();
    expect(finishedAs(job('SuccessCriteriaMet'))).toBeUndefined();
    expect(finishedAs({})).toBeUndefined();
  });

  it('prefers a failing container and leaves out an empty message', () => {
    const pod = (...states: [number, string?][]): V1Pod => ({
      status: {
        containerStatuses: states.map(([exitCode, message], i) => ({
          name: `c${i}`,
          state: { terminated: { exitCode, message } },
        })) as never,
      },
    });
    expect(termination([pod([0, 'ok'], [2, 'bad'])])).toEqual({ exitCode: 2, message: 'bad' });
    expect(termination([pod([0])])).toEqual({ exitCode: 0 });
    expect(termination([])).toEqual({});
  });

  it('reads the latest pod, with timestamps as listed (Date) or watched (string)', () => {
    const pod = (created: Date | string, exitCode: number): V1Pod => ({
      metadata: { creationTimestamp: created as Date },
      status: { containerStatuses: [{ name: 'c', state: { terminated: { exitCode } } }] as never },
    });
    expect(
      termination([
        pod(new Date('2026-01-01T00:00:05Z'), 1),
        pod('2026-01-01T00:00:09Z', 3),
        pod('2026-01-01T00:00:07Z', 2),
      ]),
    ).toEqual({ exitCode: 3 });
  });
});

describe('sender text in env', () => {
  it('escapes every $ so the kubelet expands nothing', () => {
    expect(escapeEnv('$(DB_PASSWORD)')).toBe('$$(DB_PASSWORD)');
    expect(escapeEnv('a$$b$')).toBe('a$$$$b$$');
    expect(escapeEnv('plain')).toBe('plain');
  });

  it('the Job spec carries no unescaped $( from a delivery id or input path', () => {
    const r = route({ input: { path: '/in/$(HOME)/x.json' } });
    const { job } = buildRun(delivery(r, '$(DB_PASSWORD) and $$(X) and $HOSTNAME'));
    for (const c of job.spec!.template.spec!.containers) {
      const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? '']));
      expect(env[Env.deliveryId]).toBe('$$(DB_PASSWORD) and $$$$(X) and $$HOSTNAME');
      expect(env[Env.inputFile]).toBe('/in/$$(HOME)/x.json');
      for (const value of Object.values(env)) expect(value.replaceAll('$$', '')).not.toContain('$(');
    }
    // The annotation is not expanded by anything: it keeps the id as sent.
    expect(job.metadata?.annotations?.['hookgate.io/delivery-id']).toBe(
      '$(DB_PASSWORD) and $$(X) and $HOSTNAME',
    );
  });
});

describe('dedupe key and replay record', () => {
  it('names the run after the key when one is given, and records replay-until', () => {
    const { job } = buildRun({ ...delivery(), key: 'sig:abc', replayUntil: '2026-01-01T00:05:00Z' });
    expect(job.metadata?.name).toBe(runName('team-a', 'deploy', 'sig:abc'));
    expect(job.metadata?.annotations?.['hookgate.io/replay-until']).toBe('2026-01-01T00:05:00Z');
    expect(buildRun(delivery()).job.metadata?.annotations).not.toHaveProperty('hookgate.io/replay-until');
  });

  it("the Workflow's ttlSecondsAfterFinished never ends the record before its replay window", () => {
    const withTtl = (ttl: number) => {
      const r = route();
      const spec = r.workflow.spec.jobTemplate.spec as Record<string, unknown>;
      spec.ttlSecondsAfterFinished = ttl;
      return r;
    };
    const ttl = (ttlSeconds: number, replayWindowSeconds?: number) =>
      buildRun({ ...delivery(withTtl(ttlSeconds)), key: 'sig:abc', replayWindowSeconds }).job.spec
        ?.ttlSecondsAfterFinished;
    expect(ttl(0, 3600)).toBe(3600);
    expect(ttl(60, 600)).toBe(600);
    expect(ttl(86_400, 600)).toBe(86_400);
    // Nothing signed, nothing to record: the Workflow's own TTL.
    expect(ttl(0)).toBe(0);
    // No TTL in the template: none on the Job (the Workflow's history limits apply).
    expect(buildRun({ ...delivery(), replayWindowSeconds: 600 }).job.spec).not.toHaveProperty(
      'ttlSecondsAfterFinished',
    );
  });
});

describe('validationRun', () => {
  it('is exactly the Job a delivery of the Workflow would get', () => {
    const r = route();
    const wf = r.workflow;
    const dryRun = validationRun('team-a', wf);
    const real = buildRun({
      route: { namespace: 'team-a', name: wf.name, workflow: wf },
      deliveryId: VALIDATION_DELIVERY,
      input: {},
    });
    expect(dryRun).toEqual(real.job);
    // including the input volume and mounts the API server must accept
    expect(dryRun.spec?.template.spec?.volumes?.map((v) => v.name)).toContain(INPUT_VOLUME);
  });
});

describe('published results', () => {
  const job = (annotation?: string): V1Job => ({
    metadata: annotation === undefined ? {} : { annotations: { 'hookgate.io/result': annotation } },
  });
  it('reads the exit code and message the operator wrote, and nothing else', () => {
    expect(publishedTermination(job('{"exitCode":3,"message":"disk full"}'))).toEqual({
      exitCode: 3,
      message: 'disk full',
    });
    expect(publishedTermination(job('{}'))).toEqual({});
    expect(publishedTermination(job('not json'))).toEqual({});
    expect(publishedTermination(job('{"exitCode":"3","extra":1}'))).toEqual({});
    expect(publishedTermination(job())).toBeUndefined();
  });

  it('termination trims and clips the message at 4096', () => {
    const pod = (message: string): V1Pod => ({
      status: {
        containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 1, message } } }] as never,
      },
    });
    expect(termination([pod(' disk full\n')]).message).toBe('disk full');
    expect(termination([pod('x'.repeat(5000))]).message).toHaveLength(4096);
  });
});
