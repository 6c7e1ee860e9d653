// The loop body with in-memory caches and a recording API: what it writes, and above all what it
// does not (no write when nothing changed; no new credentials from a stale cache).
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { WebhookTrigger, WebhookTriggerStatus, Workflow } from '../../../api/v1alpha1/index.ts';
import { ROUTE_KEY } from '../../../api/v1alpha1/index.ts';
import { captureSecret, captureSecretName } from '../../../lib/capture.ts';
import type { Cache, ObjectKey } from '../../runtime/types.ts';
import type { Cached } from '../resources.ts';
import type { TriggerApi } from './apply.ts';
import { routeSecretName, routeSecretView } from './desired.ts';
import { WebhookTriggerReconciler } from './reconcile.ts';
import { ReferencedSecrets } from './referenced.ts';

class MapCache<T extends KubernetesObject> implements Cache<T> {
  readonly items = new Map<string, T>();
  get(k: ObjectKey) {
    return this.items.get(`${k.namespace}/${k.name}`);
  }
  list(namespace?: string) {
    return [...this.items.values()].filter(
      (o) => namespace === undefined || o.metadata?.namespace === namespace,
    );
  }
  put(o: T) {
    this.items.set(`${o.metadata?.namespace}/${o.metadata?.name}`, structuredClone(o));
  }
  /** As the informer does once the transform keeps the object whole (same resourceVersion). */
  refresh(o: T) {
    const cached = this.get({ namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '' });
    if (cached?.metadata?.resourceVersion === o.metadata?.resourceVersion) this.put(o);
  }
}

function setup() {
  const triggers = new MapCache<Cached<WebhookTrigger>>();
  const workflows = new MapCache<Cached<Workflow>>();
  const secrets = new MapCache<V1Secret>();
  const routes = new MapCache<V1Secret>();
  const captures = new MapCache<V1Secret>();
  const identities = new MapCache<KubernetesObject>();
  /** What a GET from the API server answers, and the names read. */
  const server = new MapCache<V1Secret>();
  const reads: string[] = [];
  const get = async (k: ObjectKey) => {
    reads.push(k.name);
    return server.get(k);
  };
  const writes: string[] = [];
  let n = 0;
  const api: TriggerApi = {
    async createSecret(s) {
      writes.push(`create ${s.metadata?.name}`);
      if (secrets.get({ namespace: s.metadata!.namespace!, name: s.metadata!.name! }))
        throw new Error('AlreadyExists');
      secrets.put({ ...s, metadata: { ...s.metadata, resourceVersion: String(++n) } });
    },
    async applySecret(s) {
      writes.push(`apply ${s.metadata?.name}`);
      (s.metadata?.namespace === 'ingress' ? routes : secrets).put({
        ...s,
        metadata: { ...s.metadata, resourceVersion: String(++n) },
      });
    },
    async deleteSecret(namespace, name) {
      writes.push(`delete ${name}`);
      routes.items.delete(`${namespace}/${name}`);
      captures.items.delete(`${namespace}/${name}`);
    },
    async applyStatus(meta, status: Partial<WebhookTriggerStatus>) {
      writes.push('status');
      const t = triggers.get(meta)!;
      triggers.put({ ...t, status: status as WebhookTriggerStatus });
    },
  };
  let g = 0;
  const reconciler = new WebhookTriggerReconciler({
    triggers,
    workflows,
    secrets: { credentials: secrets, identities, values: new ReferencedSecrets(get), get },
    // What the operator's route Secret informer keeps (resources.ts): the route's digest.
    routes: {
      get: (k) => {
        const s = routes.get(k);
        return s && routeSecretView(s);
      },
      list: (ns) => routes.list(ns).map(routeSecretView),
    },
    captures,
    api,
    events: { record: () => {} },
    conditions: { set: () => {}, delete: () => {} },
    log: pino({ level: 'silent' }),
    config: { publicBaseUrl: 'https://h.test', ingressNamespace: 'ingress', rotationGrace: 60_000 },
    generate: {
      token: () => `hgt_gen${++g}`,
      signingSecret: () => `whsec_gen${++g}`,
      basic: () => ({ username: `hg${++g}`, password: `pw${g}` }),
      urlToken: () => `hgu_gen${++g}`,
      bodySecret: () => `hgs_gen${++g}`,
      verifyToken: () => `hgv_gen${++g}`,
    },
    now: () => new Date('2026-01-01T00:00:00Z'),
  });
  triggers.put({
    apiVersion: 'hookgate.io/v1alpha1',
    kind: 'WebhookTrigger',
    metadata: { namespace: 'ns', name: 't', uid: 'tu', generation: 1 },
    spec: { workflowRef: { name: 'wf' }, auth: { bearer: {} } },
  } as never);
  workflows.put({
    apiVersion: 'hookgate.io/v1alpha1',
    kind: 'Workflow',
    metadata: { namespace: 'ns', name: 'wf', uid: 'wu', generation: 1 },
    spec: { jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [] } } } } },
    status: {
      observedGeneration: 1,
      conditions: [
        { type: 'Ready', status: 'True', reason: 'Succeeded', message: '', lastTransitionTime: 'x' },
      ],
    },
  } as never);
  return {
    reconciler,
    writes,
    secrets,
    identities,
    server,
    reads,
    routes,
    captures,
    triggers,
    workflows,
    generated: () => g,
  };
}
const key = { namespace: 'ns', name: 't' };

describe('WebhookTriggerReconciler', () => {
  it('creates credentials, route and status once; a second pass writes nothing', async () => {
    const s = setup();
    await s.reconciler.reconcile(key);
    expect(s.writes).toEqual(['create t-credentials', `apply ${routeSecretName('ns', 't')}`, 'status']);
    expect(s.triggers.get(key)!.status!).toMatchObject({ observedGeneration: 1, tokenPrefix: 'hgt_gen1' });
    s.writes.length = 0;
    await s.reconciler.reconcile(key);
    expect(s.writes).toEqual([]);
    expect(s.generated()).toBe(1);
  });

  it('a cache that has not seen the Secret yet makes the create fail, never a second set of credentials', async () => {
    const s = setup();
    await s.reconciler.reconcile(key);
    const stored = s.secrets.get({ namespace: 'ns', name: 't-credentials' })!;
    s.secrets.items.clear(); // the informer lags
    const real = structuredClone(stored);
    const api = (s.reconciler as unknown as { d: { api: TriggerApi } }).d.api;
    const create = api.createSecret;
    api.createSecret = async (sec) => {
      s.secrets.put(real);
      return create(sec);
    };
    await expect(s.reconciler.reconcile(key)).rejects.toThrow('AlreadyExists');
    expect(s.secrets.get({ namespace: 'ns', name: 't-credentials' })).toEqual(real);
    const route = JSON.parse(Buffer.from(s.routes.list()[0]!.data!['route.json']!, 'base64').toString());
    expect(route.auth.tokens).toEqual([{ value: 'hgt_gen1' }]);
  });

  it('a missing Workflow stalls and its route answers 503 without credentials; a deleted trigger removes the route', async () => {
    const s = setup();
    await s.reconciler.reconcile(key);
    s.workflows.items.clear();
    const result = await s.reconciler.reconcile(key);
    expect(result?.terminal).toBe('WorkflowNotFound');
    const [secret] = s.routes.list();
    const route = JSON.parse(Buffer.from(secret!.data![ROUTE_KEY]!, 'base64').toString());
    expect(route.unavailable).toEqual({
      reason: 'WorkflowNotFound',
      message: "the trigger's workflow does not exist; its owner must create it",
    });
    expect(route.auth).toEqual({});
    expect(s.triggers.get(key)!.status!.conditions!.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'False', 'WorkflowNotFound'],
      ['Reconciling', 'False', 'WorkflowNotFound'],
      ['Stalled', 'True', 'WorkflowNotFound'],
    ]);
    // Credentials are kept through it.
    expect(s.triggers.get(key)!.status!.tokenPrefix).toBe('hgt_gen1');

    const s2 = setup();
    await s2.reconciler.reconcile(key);
    s2.triggers.items.clear();
    s2.writes.length = 0;
    await s2.reconciler.reconcile(key);
    expect(s2.writes).toEqual([`delete ${routeSecretName('ns', 't')}`]);
  });

  it('a transient failure keeps Ready, says why in Reconciling, and rethrows', async () => {
    const s = setup();
    await s.reconciler.reconcile(key);
    const t = s.triggers.get(key)!;
    s.triggers.put({ ...t, spec: { ...t.spec, suspend: true }, metadata: { ...t.metadata, generation: 2 } });
    const api = (s.reconciler as unknown as { d: { api: TriggerApi } }).d.api;
    api.applySecret = async () => {
      throw new Error('apply Secret: HTTP 500');
    };
    await expect(s.reconciler.reconcile(key)).rejects.toThrow('HTTP 500');
    const status = s.triggers.get(key)!.status!;
    expect(status.observedGeneration).toBe(1);
    expect(status.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(status.conditions?.find((c) => c.type === 'Reconciling')).toMatchObject({
      status: 'True',
      message: 'apply Secret: HTTP 500',
    });
  });

  const routeTokens = (s: ReturnType<typeof setup>) =>
    JSON.parse(Buffer.from(s.routes.list()[0]!.data!['route.json']!, 'base64').toString()).auth.tokens;

  it('reads a referenced Secret once per resourceVersion the metadata watch reports; gone, SecretNotFound', async () => {
    const s = setup();
    const t = s.triggers.get(key)!;
    s.triggers.put({
      ...t,
      spec: { ...t.spec, auth: { bearer: { secretRef: { name: 'mine', key: 'tok' } } } },
    });
    const put = (rv: string, tok: string) => {
      const meta = { namespace: 'ns', name: 'mine', resourceVersion: rv };
      s.identities.put({ metadata: meta });
      s.server.put({ metadata: meta, data: { tok: Buffer.from(tok).toString('base64') } });
    };
    put('1', 'one-0123456789abcdef');
    await s.reconciler.reconcile(key);
    await s.reconciler.reconcile(key);
    expect(s.reads).toEqual(['mine']);
    expect(routeTokens(s)).toEqual([{ value: 'one-0123456789abcdef' }]);
    put('2', 'two-0123456789abcdef');
    await s.reconciler.reconcile(key);
    expect(s.reads).toEqual(['mine', 'mine']);
    expect(routeTokens(s)).toEqual([{ value: 'two-0123456789abcdef' }]);
    s.identities.items.clear();
    await s.reconciler.reconcile(key);
    // The route stays, answering 503, and carries no credential any more.
    expect(routeTokens(s)).toBeUndefined();
    expect(s.triggers.get(key)!.status!.conditions![0]).toMatchObject({
      status: 'False',
      reason: 'SecretNotFound',
    });
    expect(s.reads).toEqual(['mine', 'mine']);
  });

  it('a credentials Secret without its labels, controlled by the trigger, is read and used, not replaced', async () => {
    const s = setup();
    const meta = {
      namespace: 'ns',
      name: 't-credentials',
      resourceVersion: '5',
      ownerReferences: [
        {
          apiVersion: 'hookgate.io/v1alpha1',
          kind: 'WebhookTrigger',
          name: 't',
          uid: 'tu',
          controller: true,
        },
      ],
    };
    s.identities.put({ metadata: meta });
    s.server.put({ metadata: meta, data: { token: Buffer.from('hgt_kept').toString('base64') } });
    await s.reconciler.reconcile(key);
    expect(s.writes).toEqual([`apply ${routeSecretName('ns', 't')}`, 'status']);
    expect(routeTokens(s)).toEqual([{ value: 'hgt_kept' }]);
    expect(s.generated()).toBe(0);

    // Listed before its trigger was known: the cache keeps only its identity until it is read once.
    const early = setup();
    early.secrets.put({ metadata: meta });
    early.server.put({ metadata: meta, data: { token: Buffer.from('hgt_kept').toString('base64') } });
    await early.reconciler.reconcile(key);
    expect(routeTokens(early)).toEqual([{ value: 'hgt_kept' }]);
    expect(early.generated()).toBe(0);
    expect(early.reads).toEqual(['t-credentials']);
    await early.reconciler.reconcile(key);
    expect(early.reads).toEqual(['t-credentials']);

    // Someone else's Secret under that name blocks, as before.
    const other = setup();
    other.identities.put({ metadata: { namespace: 'ns', name: 't-credentials' } });
    await other.reconciler.reconcile(key);
    expect(other.triggers.get(key)!.status!.conditions![0]).toMatchObject({ reason: 'InvalidSpec' });
    expect(other.reads).toEqual([]);
  });

  it('takes in a captured Asana secret once, publishes a route that stops waiting, then deletes the capture', async () => {
    const s = setup();
    const t = s.triggers.get(key)!;
    const asana = {
      ...t.spec,
      auth: { signature: { scheme: 'hmac-sha256', header: 'X-Hook-Signature' } },
      handshakes: [{ name: 'asana-hook-secret' }],
    };
    s.triggers.put({ ...t, spec: asana } as never);
    await s.reconciler.reconcile(key);
    const route = () =>
      JSON.parse(Buffer.from(s.routes.list()[0]!.data!['route.json']!, 'base64').toString());
    expect(route().handshakes).toEqual([{ name: 'asana-hook-secret', waiting: true }]);
    expect(route().auth.signature.secrets).toEqual([]);
    expect(s.triggers.get(key)!.status!.secretCapture).toEqual({ state: 'Waiting' });

    // One captured for an earlier trigger of the same name: dropped, never taken in.
    const stale = captureSecret({ namespace: 'ns', name: 't', uid: 'gone' }, 'ingress', 'stale-secret');
    s.captures.put({ ...stale, metadata: { ...stale.metadata, uid: 'c0' } });
    s.writes.length = 0;
    await s.reconciler.reconcile(key);
    expect(s.writes).toEqual([`delete ${captureSecretName('ns', 't')}`]);
    expect(route().handshakes).toEqual([{ name: 'asana-hook-secret', waiting: true }]);

    const fresh = captureSecret({ namespace: 'ns', name: 't', uid: 'tu' }, 'ingress', 'b537207f20cbfa02');
    s.captures.put({ ...fresh, metadata: { ...fresh.metadata, uid: 'c1' } });
    s.writes.length = 0;
    await s.reconciler.reconcile(key);
    const stored = s.secrets.get({ namespace: 'ns', name: 't-credentials' })!;
    expect(Buffer.from(stored.data!.signingSecret!, 'base64').toString()).toBe('b537207f20cbfa02');
    expect(route().auth.signature.secrets).toEqual([{ value: 'b537207f20cbfa02' }]);
    expect(route().handshakes).toEqual([{ name: 'asana-hook-secret', waiting: false }]);
    expect(s.writes).toEqual([
      'create t-credentials',
      `apply ${routeSecretName('ns', 't')}`,
      `delete ${captureSecretName('ns', 't')}`,
      'status',
    ]);
    expect(s.captures.list()).toEqual([]);
    expect(s.triggers.get(key)!.status!.secretCapture).toMatchObject({ state: 'Captured' });
  });
});

describe('WebhookTriggerReconciler: what each kind of error does', () => {
  const conditions = (s: ReturnType<typeof setup>) =>
    s.triggers.get(key)!.status!.conditions!.map((c) => [c.type, c.status, c.reason]);
  const route = (s: ReturnType<typeof setup>) => {
    const secret = s.routes.list()[0];
    return secret && JSON.parse(Buffer.from(secret.data![ROUTE_KEY]!, 'base64').toString());
  };
  const withWorkflow = (s: ReturnType<typeof setup>, change: (wf: Cached<Workflow>) => Cached<Workflow>) => {
    const wf = s.workflows.get({ namespace: 'ns', name: 'wf' })!;
    s.workflows.put(change(structuredClone(wf)));
  };
  const waiting = (reason: string) => [
    ['Ready', 'False', reason],
    ['Reconciling', 'True', reason],
    ['Stalled', 'False', reason],
  ];

  it('waits (not stalled, not terminal) for a Workflow that has not been reconciled, serving 503', async () => {
    const s = setup();
    withWorkflow(s, (wf) => ({ ...wf, status: {} }) as Cached<Workflow>);
    const result = await s.reconciler.reconcile(key);
    expect(result).toEqual({});
    expect(conditions(s)).toEqual(waiting('WorkflowNotReady'));
    expect(route(s).unavailable).toMatchObject({ reason: 'WorkflowNotReady' });
  });

  it('a Workflow not Ready stalls the trigger only when the Workflow itself is Stalled', async () => {
    const notReady = (stalled: 'True' | 'False') => (wf: Cached<Workflow>) =>
      ({
        ...wf,
        status: {
          conditions: [
            { type: 'Ready', status: 'False', reason: 'X', message: 'm', lastTransitionTime: 'x' },
            { type: 'Stalled', status: stalled, reason: 'X', message: 'm', lastTransitionTime: 'x' },
          ],
        },
      }) as Cached<Workflow>;
    const s = setup();
    withWorkflow(s, notReady('False'));
    expect(await s.reconciler.reconcile(key)).toEqual({});
    expect(conditions(s)).toEqual(waiting('WorkflowNotReady'));
    const t = setup();
    withWorkflow(t, notReady('True'));
    expect(await t.reconciler.reconcile(key)).toEqual({ terminal: 'WorkflowNotReady' });
    expect(route(t).unavailable).toMatchObject({ reason: 'WorkflowNotReady' });
  });

  it('a Ready Workflow whose new spec does not parse: the trigger waits for its verdict and answers 503, not 404', async () => {
    const s = setup();
    await s.reconciler.reconcile(key);
    withWorkflow(s, (wf) => ({ ...wf, spec: { jobTemplate: 'not a template' } }) as never);
    expect(await s.reconciler.reconcile(key)).toEqual({});
    expect(conditions(s)).toEqual(waiting('WorkflowNotReady'));
    expect(route(s)).toMatchObject({ unavailable: { reason: 'WorkflowNotReady' }, auth: {} });
  });

  it('waits for garbage collection of a deleted namesake’s credentials: retried in 2 s, no route', async () => {
    const s = setup();
    const owner = { apiVersion: 'hookgate.io/v1alpha1', kind: 'WebhookTrigger', name: 't', uid: 'old' };
    s.identities.put({
      metadata: { namespace: 'ns', name: 't-credentials', ownerReferences: [{ ...owner, controller: true }] },
    });
    expect(await s.reconciler.reconcile(key)).toEqual({ requeueAfter: 2000 });
    expect(conditions(s)).toEqual(waiting('Progressing'));
    expect(s.routes.list()).toEqual([]);
    expect(s.generated()).toBe(0);
  });

  it('stalls on an unusable spec: terminal, no route', async () => {
    const s = setup();
    await s.reconciler.reconcile(key);
    const t = s.triggers.get(key)!;
    s.triggers.put({ ...t, spec: { ...t.spec, auth: {} } } as never);
    expect(await s.reconciler.reconcile(key)).toEqual({ terminal: 'InvalidSpec' });
    expect(conditions(s)).toEqual([
      ['Ready', 'False', 'InvalidSpec'],
      ['Reconciling', 'False', 'InvalidSpec'],
      ['Stalled', 'True', 'InvalidSpec'],
    ]);
    expect(s.routes.list()).toEqual([]);
  });
});
