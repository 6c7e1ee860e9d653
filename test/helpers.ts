// Helpers for tests against the local control plane. They run in vitest workers, which only get
// the serializable ClusterInfo from the global setup (test/harness/global-setup.ts).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import { join, resolve } from 'node:path';
import {
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  type V1Lease,
  type V1Secret,
} from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, inject } from 'vitest';
import { isConflict, isNotFound } from '../lib/kube.ts';
import * as controlplane from './harness/index.ts';

const ROOT = resolve(import.meta.dirname, '..');

export function clusterInfo(): controlplane.ClusterInfo {
  const info = inject('cluster');
  if (!info) throw new Error('no cluster provided: run this file in the vitest project "cluster"');
  return info;
}

/**
 * The realnode project's node (test/harness/global-setup-realnode.ts), and why its tests skip
 * where this machine cannot run one.
 */
export function realNode(): { node: controlplane.RealNodeInfo; skip: string | undefined } {
  const provided = inject('realNode');
  return {
    node: provided as controlplane.RealNodeInfo,
    skip: 'skip' in provided ? provided.skip : undefined,
  };
}

/** A logger for the code under test: silent unless TEST_LOG_LEVEL asks for its lines. */
export const testLog = () => pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** A client config with admin (system:masters) rights. */
export function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(clusterInfo().kubeconfigPath);
  return kc;
}

/**
 * A fresh namespace `<prefix>-xxxxx` for the calling test file: created in beforeAll (ready once its
 * default ServiceAccount exists, so pods are admitted), deleted in afterAll. It is opted in to runs
 * (the chart's `admission.runNamespaceLabels`) unless `runs` is false.
 */
export function useNamespace(prefix: string, opts: { runs?: boolean } = {}): { readonly name: string } {
  let name: string | undefined;
  beforeAll(async () => {
    const core = kubeConfig().makeApiClient(CoreV1Api);
    const labels = opts.runs === false ? {} : await controlplane.chartRunNamespaceLabels();
    const ns = await core.createNamespace({ body: { metadata: { generateName: `${prefix}-`, labels } } });
    name = ns.metadata!.name!;
    const namespace = name;
    await waitFor(() => core.readNamespacedServiceAccount({ namespace, name: 'default' }), {
      what: `default ServiceAccount in ${namespace}`,
    });
  });
  afterAll(async () => {
    if (!name) return;
    await kubeConfig()
      .makeApiClient(CoreV1Api)
      .deleteNamespace({ name })
      .catch((err) => {
        if (!isNotFound(err)) throw err;
      });
  });
  return {
    get name() {
      if (!name) throw new Error('the namespace exists only from beforeAll on');
      return name;
    },
  };
}

type HookgateOptions = Omit<Parameters<typeof controlplane.startHookgate>[1], 'namespace'>;

/**
 * hookgate's operator and ingress as the chart runs them, in a namespace of their own
 * (`hookgate-system-<prefix>-xxxxxx`), started before the calling file's tests and stopped after
 * them. `opts` is called in beforeAll, so it may name what exists only from then on (a namespace).
 */
export function useHookgate(
  prefix: string,
  opts: () => HookgateOptions = () => ({}),
): { readonly hg: controlplane.Hookgate; readonly system: string } {
  const system = `hookgate-system-${prefix}-${randomBytes(3).toString('hex')}`;
  let hg: controlplane.Hookgate | undefined;
  beforeAll(async () => {
    hg = await controlplane.startHookgate(clusterInfo(), { ...opts(), namespace: system });
  });
  afterAll(async () => {
    await hg?.stop();
    await kubectl(['delete', 'namespace', system, '--wait=false', '--ignore-not-found']);
  });
  return {
    system,
    get hg() {
      if (!hg) throw new Error('hookgate runs only from beforeAll on');
      return hg;
    },
  };
}

export type RunResult = controlplane.RunResult;

/** Runs a control plane binary (kubectl, helm) with `input` on stdin. Never throws on a non-zero exit. */
export function runBinary(name: string, args: string[], input = ''): Promise<RunResult> {
  return controlplane.runProcess(join(clusterInfo().binDir, name), args, { input });
}

/**
 * One more ingress process from the sources on 127.0.0.1 (free ports), serving the routes in
 * `namespace` as `kubeconfig`, with `args` after those. Stop it yourself.
 */
export async function spawnIngress(
  name: string,
  opts: { kubeconfig: string; namespace: string; args?: string[] },
): Promise<{ proc: controlplane.Proc; url: string }> {
  const [port, metricsPort] = await controlplane.freePorts(2);
  const proc = controlplane.spawnLogged(clusterInfo().dir, name, process.execPath, [
    '--import',
    'tsx',
    join(ROOT, 'ingress/server.ts'),
    `--kubeconfig=${opts.kubeconfig}`,
    `--namespace=${opts.namespace}`,
    '--address=127.0.0.1',
    `--port=${port}`,
    `--metrics-port=${metricsPort}`,
    ...(opts.args ?? []),
  ]);
  return { proc, url: `http://127.0.0.1:${port}` };
}

/** Runs the cluster's kubectl (admin unless `kubeconfig` is given). Never throws on a non-zero exit. */
export function kubectl(
  args: string[],
  opts: { input?: string; kubeconfig?: string } = {},
): Promise<RunResult> {
  const kubeconfig = opts.kubeconfig ?? clusterInfo().kubeconfigPath;
  return runBinary('kubectl', [`--kubeconfig=${kubeconfig}`, ...args], opts.input);
}

/** The credentials of the kubeconfig at `path`, sent to another API server (from startApiServer). */
export function kubeConfigVia(path: string, server: { kubeconfigPath: string }): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  const other = new KubeConfig();
  other.loadFromFile(server.kubeconfigPath);
  kc.clusters = kc.clusters.map((c) => ({ ...c, server: other.getCurrentCluster()!.server }));
  return kc;
}

/** Path of a kubeconfig that acts as the ServiceAccount (a bound token from the TokenRequest API). */
export function serviceAccountKubeconfig(namespace: string, name: string): Promise<string> {
  return controlplane.serviceAccountKubeconfig(clusterInfo(), namespace, name);
}

/**
 * Starts one more kube-apiserver on the cluster's etcd; its kubeconfig reaches the same data.
 * Stop it yourself (e.g. to test an unreachable API server); it dies with the worker at the latest.
 */
export function startApiServer(opts: { port?: number } = {}): Promise<controlplane.ApiServer> {
  return controlplane.startApiServer(clusterInfo(), opts);
}

/**
 * The pid of the cluster's own kube-apiserver, e.g. to freeze it (SIGSTOP) or kill it: the harness
 * restarts it at its address when it exits, as a kubelet restarts a static pod.
 */
export function apiServerPid(): Promise<number> {
  return controlplane.apiServerPid(clusterInfo());
}

/**
 * Calls `fn` until it returns something other than undefined, null or false, and returns that.
 * A throw counts as "not yet"; on timeout the last error is part of the message.
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<Exclude<T, undefined | null | false>> {
  const { timeoutMs = 30_000, intervalMs = 200, what = 'condition' } = opts;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined && value !== null && value !== false)
        return value as Exclude<T, undefined | null | false>;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${detail})`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Rewrites a Lease's holder as another replica would; a renewal in between means 409, so retry. */
export async function setLeaseHolder(
  namespace: string,
  name: string,
  holderIdentity: string | undefined,
): Promise<V1Lease> {
  const coordination = kubeConfig().makeApiClient(CoordinationV1Api);
  for (;;) {
    const current = await coordination.readNamespacedLease({ namespace, name });
    try {
      return await coordination.replaceNamespacedLease({
        namespace,
        name,
        body: { ...current, spec: { ...current.spec, holderIdentity } },
      });
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }
}

/** Sums an API server metric over the series carrying all of `labels`. */
export async function apiServerMetric(server: KubeConfig, name: string, labels: Record<string, string>) {
  const opts: https.RequestOptions = {};
  await server.applyToHTTPSOptions(opts);
  const text = await new Promise<string>((resolve, reject) => {
    https
      .get(`${server.getCurrentCluster()!.server}/metrics`, opts, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d;
        });
        res.on('end', () =>
          res.statusCode === 200 ? resolve(body) : reject(new Error(`GET /metrics: ${res.statusCode}`)),
        );
      })
      .on('error', reject);
  });
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = line.match(/^(\w+)\{(.*)\} (\S+)$/);
    if (m?.[1] !== name) continue;
    const series = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => series[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

/**
 * The path of promtool (test/harness/build.sh extracts it from Debian's prometheus package), or
 * undefined with the reason printed: tests that need it then skip, except under CI=true, where a
 * missing promtool fails the run instead.
 */
export function promtoolPath(): string | undefined {
  const path = join(clusterInfo().binDir, 'promtool');
  if (existsSync(path)) return path;
  const reason = `promtool is missing from ${clusterInfo().binDir} (test/harness/build.sh fetches it with apt-get)`;
  if (process.env.CI === 'true') throw new Error(reason);
  console.warn(`skipping the promtool checks: ${reason}`);
  return undefined;
}

/** Runs promtool with `input` on stdin. Never throws on a non-zero exit. */
export function promtool(args: string[], input = ''): Promise<RunResult> {
  return runBinary('promtool', args, input);
}

/**
 * What a tenant can write to flood hookgate's caches (issue 20): `count` suspended Jobs labelled as
 * runs of `trigger` and `count` Secrets dressed as its credentials (labels, and a controller
 * reference to the live trigger, so the garbage collector keeps them), each with 200 KiB of
 * `hookgate.io/` annotations, different in every object.
 */
export async function forgeFlood(namespace: string, trigger: { name: string; uid: string }, count: number) {
  const kc = kubeConfig();
  const batch = kc.makeApiClient(BatchV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const pad = () => randomBytes(150 * 1024).toString('base64');
  const labels = { 'app.kubernetes.io/managed-by': 'hookgate', 'hookgate.io/trigger': trigger.name };
  const owner = { apiVersion: 'hookgate.io/v1alpha1', kind: 'WebhookTrigger', ...trigger, controller: true };
  const forge = (n: number) => [
    batch.createNamespacedJob({
      namespace,
      body: {
        metadata: {
          name: `forged-run-${n}`,
          labels: { ...labels, 'hookgate.io/workflow': trigger.name, 'hookgate.io/delivery': `d${n}` },
          annotations: { 'hookgate.io/pad': pad() },
        },
        spec: {
          suspend: true,
          template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } },
        },
      },
    }),
    core.createNamespacedSecret({
      namespace,
      body: {
        metadata: {
          name: `forged-credentials-${n}`,
          labels,
          annotations: { 'hookgate.io/rotated-for': pad() },
          ownerReferences: [owner],
        },
        data: { token: Buffer.from(`hgt_forged_${n}`).toString('base64') },
      },
    }),
  ];
  for (let i = 0; i < count; i += 10)
    await Promise.all(Array.from({ length: Math.min(10, count - i) }, (_, j) => forge(i + j)).flat());
}

/** The Secrets of `namespace` that carry the labels `selector` selects. */
export async function secretsLabelled(namespace: string, selector: string): Promise<V1Secret[]> {
  const core = kubeConfig().makeApiClient(CoreV1Api);
  return (await core.listNamespacedSecret({ namespace, labelSelector: selector })).items;
}

/** A process's resident set and its peak (VmRSS, VmHWM), in MiB, from /proc. */
export async function processMemory(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const mib = (field: string) => {
    const kb = Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    if (!kb) throw new Error(`no ${field} for pid ${pid}`);
    return kb / 1024;
  };
  return { rss: mib('VmRSS'), peak: mib('VmHWM') };
}
