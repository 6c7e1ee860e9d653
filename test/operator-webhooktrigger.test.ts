// The WebhookTrigger reconciler against the real API server: informers, server-side apply,
// owner-reference garbage collection by kube-controller-manager, and a controller restart.
import { CoreV1Api, type V1Secret } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Condition, type Route, RouteSchema, type WebhookTrigger } from '../api/v1alpha1/index.ts';
import { isNotFound } from '../lib/kube.ts';
import { routeSecretName } from '../operator/controllers/webhooktrigger/desired.ts';
import type { Manager } from '../operator/runtime/manager.ts';
import { kubeConfig, kubectl, useNamespace, waitFor } from './helpers.ts';
import { useTenant } from './objects.test-helper.ts';
import { startOperator as startManager } from './operator-replica.test-helper.ts';

const ns = useTenant('op-trigger');
const ingress = useNamespace('op-ingress');
const kc = kubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const BASE = 'https://hooks.example.test';

let manager: Manager | undefined;
async function startOperator(): Promise<void> {
  manager = await startManager(kc, [
    `--namespaces=${ns.name}`,
    `--ingress-namespace=${ingress.name}`,
    '--rotation-grace=6s',
  ]);
}
async function stopOperator(): Promise<void> {
  await manager?.stop();
  manager = undefined;
}
beforeAll(startOperator);
afterAll(stopOperator);

const apply = async (yaml: string) => {
  const r = await kubectl(['apply', '-n', ns.name, '-f', '-'], { input: yaml });
  expect(r.code, r.stderr).toBe(0);
};
const workflowYaml = (name: string, restartPolicy = 'Never') => `
apiVersion: hookgate.io/v1alpha1
kind: Workflow
metadata: { name: ${name} }
spec:
  jobTemplate:
    spec:
      backoffLimit: 0
      template:
        spec:
          restartPolicy: ${restartPolicy}
          containers: [{ name: run, image: busybox }]
`;

const cond = (t: WebhookTrigger, type: string): Condition | undefined =>
  t.status?.conditions?.find((c) => c.type === type);
const ready = (name: string) => ns.settled(name, (t) => cond(t, 'Ready')?.status === 'True', `${name} Ready`);
const notReady = (name: string, reason: string) =>
  ns.settled(
    name,
    (t) => cond(t, 'Ready')?.status === 'False' && cond(t, 'Ready')?.reason === reason,
    `${name} ${reason}`,
  );

const readSecret = (namespace: string, name: string) => core.readNamespacedSecret({ namespace, name });
const decode = (s: V1Secret) =>
  Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
const route = async (trigger: string): Promise<Route> =>
  RouteSchema.parse(
    JSON.parse(decode(await readSecret(ingress.name, routeSecretName(ns.name, trigger)))['route.json']!),
  );
/** A trigger that cannot start runs keeps a route that answers 503: no credentials, a public reason. */
const routeUnavailable = (trigger: string, reason: string) =>
  waitFor(
    async () => {
      const r = await route(trigger).catch(() => undefined);
      return r?.unavailable?.reason === reason && r;
    },
    { what: `route of ${trigger} unavailable (${reason})` },
  );
const routeGone = (trigger: string) =>
  waitFor(
    () =>
      readSecret(ingress.name, routeSecretName(ns.name, trigger)).then(
        () => false,
        (err) => isNotFound(err),
      ),
    { what: `route of ${trigger} deleted` },
  );

const triggerYaml = (name: string, workflow: string, extra = '') => `
apiVersion: hookgate.io/v1alpha1
kind: WebhookTrigger
metadata: { name: ${name} }
spec:
  workflowRef: { name: ${workflow} }
  auth:
    bearer: {}
    signature: { scheme: standard-webhooks }
${extra}
`;

describe('WebhookTrigger', () => {
  beforeAll(async () => {
    await apply(workflowYaml('build'));
  });

  it('reaches Ready with URL, status and a generated credentials Secret owned by it', async () => {
    await apply(triggerYaml('github', 'build'));
    const t = await ready('github');
    expect(t.status).toMatchObject({
      url: `${BASE}/hooks/${ns.name}/github`,
      path: `/hooks/${ns.name}/github`,
      credentialsSecret: 'github-credentials',
      signingSecretSet: true,
    });
    expect(cond(t, 'Stalled')?.status).toBe('False');
    const secret = await readSecret(ns.name, 'github-credentials');
    const data = decode(secret);
    expect(data.token).toMatch(/^hgt_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(data.signingSecret!.replace(/^whsec_/, ''), 'base64')).toHaveLength(32);
    expect(t.status?.tokenPrefix).toBe(data.token!.slice(0, 8));
    expect(secret.metadata?.ownerReferences).toEqual([
      expect.objectContaining({
        kind: 'WebhookTrigger',
        name: 'github',
        uid: t.metadata.uid,
        controller: true,
      }),
    ]);
    const r = await waitFor(() => route('github'), { what: 'route Secret' });
    expect(r.auth.tokens).toEqual([{ value: data.token }]);
    expect(r.auth.signature?.secrets).toEqual([{ value: data.signingSecret }]);
    expect(r).toMatchObject({ uid: t.metadata.uid, path: `/hooks/${ns.name}/github`, suspended: false });
    expect(r.workflow.name).toBe('build');
    // Written by server-side apply under the operator's field manager, status through /status.
    expect(t.metadata.managedFields).toContainEqual(
      expect.objectContaining({ manager: 'hookgate-operator', operation: 'Apply', subresource: 'status' }),
    );
    const routeObj = await readSecret(ingress.name, routeSecretName(ns.name, 'github'));
    expect(routeObj.metadata?.managedFields?.map((f) => [f.manager, f.operation])).toEqual([
      ['hookgate-operator', 'Apply'],
    ]);
    // A new trigger's first credentials are shown by its status, not announced by an Event (one
    // write in eight for a new trigger); generated again because the Secret was deleted, they are,
    // and no Event carries a credential.
    const eventsText = async () =>
      (await kubectl(['get', 'events.events.k8s.io', '-n', ns.name, '-o', 'json'])).stdout;
    expect(await eventsText()).not.toContain('CredentialsGenerated');
    await core.deleteNamespacedSecret({ namespace: ns.name, name: 'github-credentials' });
    const again = await waitFor(
      async () => {
        const s = await readSecret(ns.name, 'github-credentials').catch(() => undefined);
        return s?.metadata?.uid !== secret.metadata?.uid && s;
      },
      { what: 'credentials generated again' },
    );
    const events = await waitFor(
      async () => (await eventsText()).includes('CredentialsGenerated') && eventsText(),
      {
        what: 'Event CredentialsGenerated',
      },
    );
    for (const value of [...Object.values(data), ...Object.values(decode(again))])
      expect(events).not.toContain(value);
  });

  it('credentials survive a controller restart, a re-apply and an unrelated edit byte for byte; orphans are swept', async () => {
    const before = await readSecret(ns.name, 'github-credentials');
    await stopOperator();
    // A route left behind by a trigger deleted while no operator ran.
    await core.createNamespacedSecret({
      namespace: ingress.name,
      body: {
        metadata: {
          name: routeSecretName(ns.name, 'ghost'),
          labels: {
            'hookgate.io/route': 'true',
            'hookgate.io/trigger': 'ghost',
            'hookgate.io/trigger-namespace': ns.name,
          },
        },
        stringData: { 'route.json': '{}' },
      },
    });
    await startOperator();
    await apply(triggerYaml('github', 'build'));
    await apply(triggerYaml('github', 'build', '  rateLimit: { requests: 100 }'));
    const t = await ready('github');
    expect(t.metadata.generation).toBe(2);
    const after = await readSecret(ns.name, 'github-credentials');
    expect(after.data).toEqual(before.data);
    expect(after.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
    await waitFor(async () => (await route('github')).rateLimit.requests === 100, { what: 'route updated' });
    await routeGone('ghost');
  });

  it('rotation keeps old and new valid for the grace period, then only the new; the URL stays', async () => {
    const old = decode(await readSecret(ns.name, 'github-credentials'));
    const url = (await ns.trigger('github')).status?.url;
    await ns.rotate('github', 'r1');
    const rotated = await waitFor(
      async () => {
        const s = await readSecret(ns.name, 'github-credentials');
        return s.metadata?.annotations?.['hookgate.io/rotated-for'] === 'r1' && s;
      },
      { what: 'rotation recorded' },
    );
    const data = decode(rotated);
    expect(data.token).not.toBe(old.token);
    expect(data.signingSecret).not.toBe(old.signingSecret);
    expect(data.previousToken).toBe(old.token);
    expect(data.previousSigningSecret).toBe(old.signingSecret);
    const during = await waitFor(
      async () => {
        const r = await route('github');
        return r.auth.tokens?.length === 2 && r;
      },
      { what: 'route with both tokens' },
    );
    expect(during.auth.tokens).toEqual([
      { value: data.token },
      { value: old.token, validUntil: data.previousValidUntil },
    ]);
    expect(during.auth.signature?.secrets.map((s) => s.value)).toEqual([
      data.signingSecret,
      old.signingSecret,
    ]);
    // The route is written before the status (one status write, at the end of the reconcile).
    const t = await waitFor(
      async () => {
        const x = await ns.trigger('github');
        return x.status?.previousCredentialsValidUntil === data.previousValidUntil && x;
      },
      { what: 'status with previousCredentialsValidUntil' },
    );
    expect(t.status?.lastRotationTime).toBeDefined();
    expect(t.status?.url).toBe(url);

    const after = await waitFor(
      async () => {
        const r = await route('github');
        return r.auth.tokens?.length === 1 && r;
      },
      { what: 'previous credentials dropped after the grace period', timeoutMs: 20_000 },
    );
    expect(after.auth.tokens).toEqual([{ value: data.token }]);
    expect(after.auth.signature?.secrets).toEqual([{ value: data.signingSecret }]);
    const final = decode(await readSecret(ns.name, 'github-credentials'));
    expect(final).toEqual({ token: data.token, signingSecret: data.signingSecret });
    await waitFor(
      async () => (await ns.trigger('github')).status?.previousCredentialsValidUntil === undefined,
      {
        what: 'status without previousCredentialsValidUntil',
      },
    );
  });

  it('a suspended trigger is Ready (reason Suspended) and keeps a route marked suspended', async () => {
    await apply(triggerYaml('github', 'build', '  suspend: true\n  rateLimit: { requests: 100 }'));
    const t = await ns.settled('github', (x) => cond(x, 'Ready')?.reason === 'Suspended', 'Suspended');
    expect(cond(t, 'Ready')?.status).toBe('True');
    await waitFor(async () => (await route('github')).suspended, { what: 'route suspended' });
  });

  it('a missing Workflow: not Ready (WorkflowNotFound, Stalled), a route that answers 503; Ready once it appears', async () => {
    await apply(triggerYaml('late', 'later'));
    const t = await notReady('late', 'WorkflowNotFound');
    expect(cond(t, 'Stalled')).toMatchObject({ status: 'True', reason: 'WorkflowNotFound' });
    expect(cond(t, 'Ready')?.message).toContain('later');
    // Credentials do not wait for the Workflow: senders can be configured already.
    await readSecret(ns.name, 'late-credentials');
    await waitFor(
      async () => {
        const r = await kubectl([
          'get',
          'events.events.k8s.io',
          '-n',
          ns.name,
          '--field-selector',
          'reason=WorkflowNotFound',
          '-o',
          'name',
        ]);
        return r.stdout.trim() !== '';
      },
      { what: 'Event WorkflowNotFound' },
    );
    const unavailable = await routeUnavailable('late', 'WorkflowNotFound');
    expect(unavailable.auth).toEqual({});
    await apply(workflowYaml('later'));
    await ready('late');
    await waitFor(() => route('late'), { what: 'route of late' });
  });

  it('a Workflow that is not Ready (invalid job template): WorkflowNotReady until fixed', async () => {
    await apply(workflowYaml('broken', 'Always'));
    await apply(triggerYaml('uses-broken', 'broken'));
    const t = await notReady('uses-broken', 'WorkflowNotReady');
    // The trigger says why its Workflow cannot run, and is Stalled with it.
    expect(cond(t, 'Ready')?.message).toContain('InvalidJobTemplate');
    expect(cond(t, 'Stalled')?.status).toBe('True');
    const unavailable = await routeUnavailable('uses-broken', 'WorkflowNotReady');
    expect(unavailable.unavailable?.message).toBe(
      "the trigger's workflow cannot start runs (InvalidJobTemplate); its owner must fix it",
    );
    await apply(workflowYaml('broken'));
    await ready('uses-broken');
  });

  it('a missing referenced Secret or key: not Ready with the reason; Ready once it appears', async () => {
    await apply(`
apiVersion: hookgate.io/v1alpha1
kind: WebhookTrigger
metadata: { name: byref }
spec:
  workflowRef: { name: build }
  auth:
    bearer: { secretRef: { name: user-token, key: token } }
`);
    const t = await notReady('byref', 'SecretNotFound');
    expect(cond(t, 'Stalled')?.status).toBe('True');
    await core.createNamespacedSecret({
      namespace: ns.name,
      body: { metadata: { name: 'user-token' }, stringData: { other: 'x' } },
    });
    await notReady('byref', 'SecretKeyNotFound');
    await core.replaceNamespacedSecret({
      namespace: ns.name,
      name: 'user-token',
      body: { metadata: { name: 'user-token' }, stringData: { token: 'my-own-token-0123456789' } },
    });
    const r = await ready('byref');
    // Nothing generated: no credentials Secret, no token prefix of a user's secret in status.
    expect(r.status?.tokenPrefix).toBeUndefined();
    expect(r.status?.credentialsSecret).toBeUndefined();
    await expect(readSecret(ns.name, 'byref-credentials')).rejects.toSatisfy(isNotFound);
    await waitFor(async () => (await route('byref')).auth.tokens?.[0]?.value === 'my-own-token-0123456789', {
      what: 'route with the referenced token',
    });
  });

  it('a referenced Secret is read on demand: its new value reaches the route within seconds; deleted, SecretNotFound', async () => {
    await ready('byref');
    await core.replaceNamespacedSecret({
      namespace: ns.name,
      name: 'user-token',
      body: { metadata: { name: 'user-token' }, stringData: { token: 'my-next-token-0123456789' } },
    });
    await waitFor(async () => (await route('byref')).auth.tokens?.[0]?.value === 'my-next-token-0123456789', {
      what: 'route with the new referenced token',
      timeoutMs: 5000,
    });
    await core.deleteNamespacedSecret({ namespace: ns.name, name: 'user-token' });
    const t = await notReady('byref', 'SecretNotFound');
    expect(cond(t, 'Ready')?.message).toContain('user-token');
    // Its URL answers 503 from now on, and the route carries no credential.
    const unavailable = await routeUnavailable('byref', 'SecretNotFound');
    expect(unavailable.auth).toEqual({});
    expect(unavailable.unavailable?.message).not.toContain('user-token');
  });

  it('a credentials Secret made by an earlier version is adopted, never regenerated, labelled or not', async () => {
    const made: Record<string, V1Secret> = {};
    await stopOperator();
    try {
      for (const name of ['legacy', 'unlabelled']) {
        await apply(triggerYaml(name, 'build'));
        const t = await ns.trigger(name);
        made[name] = await core.createNamespacedSecret({
          namespace: ns.name,
          body: {
            metadata: {
              name: `${name}-credentials`,
              // What every earlier version wrote; the second lost its labels by hand.
              labels:
                name === 'legacy'
                  ? { 'app.kubernetes.io/managed-by': 'hookgate', 'hookgate.io/trigger': name }
                  : {},
              ownerReferences: [
                {
                  apiVersion: 'hookgate.io/v1alpha1',
                  kind: 'WebhookTrigger',
                  name,
                  uid: t.metadata.uid!,
                  controller: true,
                  blockOwnerDeletion: true,
                },
              ],
            },
            stringData: {
              token: `hgt_${name}-made-before`,
              signingSecret: `whsec_${Buffer.alloc(32, name).toString('base64')}`,
            },
          },
        });
      }
    } finally {
      await startOperator();
    }
    for (const [name, before] of Object.entries(made)) {
      const t = await ready(name);
      expect(t.status?.tokenPrefix).toBe(`hgt_${name}`.slice(0, 8));
      const after = await readSecret(ns.name, `${name}-credentials`);
      expect(after.data).toEqual(before.data);
      expect(after.metadata?.resourceVersion).toBe(before.metadata?.resourceVersion);
      const r = await waitFor(() => route(name), { what: `route of ${name}` });
      expect(r.auth.tokens).toEqual([{ value: `hgt_${name}-made-before` }]);
      expect(r.auth.signature?.secrets).toEqual([{ value: decode(before).signingSecret }]);
    }
  });

  it('deleting a trigger garbage-collects its credentials Secret and deletes its route', async () => {
    await apply(triggerYaml('doomed', 'build'));
    await ready('doomed');
    await waitFor(() => route('doomed'), { what: 'route of doomed' });
    const r = await kubectl(['delete', '-n', ns.name, 'webhooktrigger/doomed', '--wait=true']);
    expect(r.code).toBe(0);
    await routeGone('doomed');
    await waitFor(
      () =>
        readSecret(ns.name, 'doomed-credentials').then(
          () => false,
          (err) => isNotFound(err),
        ),
      { what: 'credentials Secret collected', timeoutMs: 60_000 },
    );
  });

  it('exports a condition gauge', async () => {
    const text = await manager!.metrics.registry.metrics();
    expect(text).toMatch(
      new RegExp(
        `hookgate_condition\\{kind="WebhookTrigger",namespace="${ns.name}",name="github",type="Ready",status="True"\\} 1`,
      ),
    );
  });
});
