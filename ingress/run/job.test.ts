import { describe, expect, it } from 'vitest';
import { type Route, RouteSchema } from '../../operator/api/v1alpha1/index.ts';
import { InputTooLargeError } from '../types.ts';
import { buildRun, Env, INPUT_KEY, INPUT_VOLUME, MAX_INPUT_BYTES, runName } from './job.ts';

function route(workflow: Record<string, unknown> = {}, name = 'deploy'): Route {
  return RouteSchema.parse({
    namespace: 'team-a',
    name,
    uid: 'trigger-uid',
    generation: 1,
    path: `/hooks/team-a/${name}`,
    suspended: false,
    auth: { tokens: [{ value: 'hgt_x' }] },
    rateLimit: { requests: 30, periodSeconds: 60 },
    maxBodyBytes: 1024,
    input: { query: true },
    response: { mode: 'async', timeoutSeconds: 30 },
    workflow: {
      name: 'build',
      uid: 'workflow-uid',
      spec: {
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
    },
  });
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
    expect(() => buildRun(delivery(route(), 'd', { s: 'é'.repeat(10) }), { maxInputBytes: 20 })).toThrow(
      InputTooLargeError,
    );
  });
});
