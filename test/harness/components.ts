// Runs hookgate's own components against the local control plane the way the chart runs them:
// the chart's ServiceAccounts and RBAC applied from `helm template`, each component a separate
// process holding only its ServiceAccount's token. Used by the e2e tests, the demo and the benchmark.
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import {
  type ClusterInfo,
  freePorts,
  logTail,
  type Proc,
  serviceAccountKubeconfig,
  spawnLogged,
  terminate,
} from './controlplane.ts';
import { runProcess } from './run.ts';

const ROOT = resolve(import.meta.dirname, '../..');
export const RELEASE = 'hookgate';

async function run(bin: string, args: string[], input?: string): Promise<string> {
  const r = await runProcess(bin, args, { input });
  if (r.code !== 0) throw new Error(`${bin} ${args[0]}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** Applies hookgate's CRDs (`crds/*.yaml`) and waits until they are served. */
export async function installCrds(info: ClusterInfo): Promise<void> {
  const kubectl = join(info.binDir, 'kubectl');
  const dir = join(ROOT, 'crds');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).flatMap((f) => ['-f', join(dir, f)]);
  const base = ['--kubeconfig', info.kubeconfigPath];
  await run(kubectl, [...base, 'apply', '--server-side', '--field-manager=hookgate-test', ...files]);
  await run(kubectl, [...base, 'wait', '--for=condition=Established', '--timeout=60s', ...files]);
}

/**
 * Applies the chart's ServiceAccounts, RBAC and admission policies into `namespace` (with `values`,
 * `--set` expressions, on top of the defaults), and waits until the policies are in force; returns a
 * kubeconfig per component and `uninstall`, which removes what was applied (cluster-scoped policies
 * and roles outlive the namespace and would judge other tests).
 */
export async function installChartRbac(
  info: ClusterInfo,
  namespace: string,
  values: string[] = [],
): Promise<{ operator: string; ingress: string; uninstall(): Promise<void> }> {
  const kubectl = join(info.binDir, 'kubectl');
  await run(kubectl, ['--kubeconfig', info.kubeconfigPath, 'create', 'namespace', namespace]).catch((err) => {
    if (!String(err).includes('AlreadyExists')) throw err;
  });
  const manifests = await run(join(info.binDir, 'helm'), [
    'template',
    RELEASE,
    join(ROOT, 'charts/hookgate'),
    '--namespace',
    namespace,
    '--kube-version',
    'v1.35.4',
    '--set',
    'crds.enabled=false',
    ...values.flatMap((v) => ['--set', v]),
    '--show-only',
    'templates/serviceaccounts.yaml',
    '--show-only',
    'templates/rbac.yaml',
    '--show-only',
    'templates/admission.yaml',
  ]);
  await run(kubectl, ['--kubeconfig', info.kubeconfigPath, 'apply', '--server-side', '-f', '-'], manifests);
  await untilAdmissionEnforced(info, namespace);
  return {
    operator: await serviceAccountKubeconfig(info, namespace, `${RELEASE}-operator`),
    ingress: await serviceAccountKubeconfig(info, namespace, `${RELEASE}-ingress`),
    uninstall: async () => {
      const del = ['--kubeconfig', info.kubeconfigPath, 'delete', '--ignore-not-found', '--wait=false'];
      await run(kubectl, [...del, '-f', '-'], manifests);
    },
  };
}

/**
 * The API server starts enforcing a new policy binding once its informer has seen it: wait until a
 * dry-run Job in kube-system, as the ingress, is refused by the policy.
 */
export async function untilAdmissionEnforced(info: ClusterInfo, namespace: string): Promise<void> {
  const kubectl = join(info.binDir, 'kubectl');
  const probe = [
    ...['--kubeconfig', info.kubeconfigPath, '-n', 'kube-system', 'create', 'job', 'hookgate-probe'],
    ...['--image=none', '--dry-run=server', `--as=system:serviceaccount:${namespace}:${RELEASE}-ingress`],
  ];
  const deadline = Date.now() + 30_000;
  for (;;) {
    const refused = await run(kubectl, probe).then(
      () => '',
      (err: Error) => err.message,
    );
    if (refused.includes('ValidatingAdmissionPolicy')) return;
    if (Date.now() > deadline) throw new Error(`the admission policies are not enforced: ${refused}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Component {
  proc: Proc;
  stop(): Promise<void>;
  logs(): Promise<string>;
}

export interface Hookgate {
  namespace: string;
  /** Whether the components run as compiled JS from dist/ (as the image does) rather than through tsx. */
  compiled: boolean;
  /** The ingress's public base URL (webhooks, /healthz, /readyz). */
  url: string;
  metricsUrl: string;
  operatorMetricsUrl: string;
  operator: Component;
  ingress: Component;
  /** After `operator.stop()`: a fresh operator with the same flags (a cold start); resolves once it is ready. */
  startOperator(): Promise<void>;
  /** After `ingress.stop()`: a fresh ingress with the same flags and port; resolves once it is ready. */
  startIngress(): Promise<void>;
  stop(): Promise<void>;
}

/** The newest modification time (ms) of a file under `dir`. */
async function newest(dir: string, ext: string): Promise<number> {
  let max = 0;
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || !e.name.endsWith(ext)) continue;
    max = Math.max(max, (await stat(join(e.parentPath, e.name))).mtimeMs);
  }
  return max;
}

/** Fails unless dist/ (`npm run build`) is at least as new as every source file it is built from. */
export async function checkBuild(): Promise<void> {
  const sources = await Promise.all(
    ['api', 'operator', 'ingress', 'lib'].map((d) => newest(join(ROOT, d), '.ts')),
  );
  const built = await newest(join(ROOT, 'dist'), '.js').catch(() => 0);
  if (built < Math.max(...sources))
    throw new Error('dist/ is missing or older than the sources: run `npm run build` first');
}

function component(proc: Proc): Component {
  return { proc, stop: () => terminate(proc), logs: () => logTail(proc, 40) };
}

async function untilOk(url: string, proc: Proc, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited\n${await logTail(proc, 40)}`);
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${proc.name} not ready at ${url} after ${timeoutMs} ms\n${await logTail(proc, 40)}`);
}

/**
 * The Node flags the chart gives each component (`<component>.nodeOptions` in values.yaml, the pods'
 * NODE_OPTIONS): the processes here run with the heap sizing they have in a pod, read from the one
 * place that sets it.
 */
export async function chartNodeOptions(): Promise<{ operator: string[]; ingress: string[] }> {
  const values = parse(await readFile(join(ROOT, 'charts/hookgate/values.yaml'), 'utf8')) as Record<
    'operator' | 'ingress',
    { nodeOptions?: string }
  >;
  const flags = (v: { nodeOptions?: string }) => (v.nodeOptions ?? '').split(/\s+/).filter(Boolean);
  return { operator: flags(values.operator), ingress: flags(values.ingress) };
}

/**
 * The labels that opt a namespace in to runs under the chart's default values
 * (`admission.runNamespaceLabels`): namespaces where the harness's hookgate launches runs carry them.
 */
export async function chartRunNamespaceLabels(): Promise<Record<string, string>> {
  const values = parse(await readFile(join(ROOT, 'charts/hookgate/values.yaml'), 'utf8')) as {
    admission: { runNamespaceLabels: Record<string, string> };
  };
  return values.admission.runNamespaceLabels;
}

/**
 * Starts operator and ingress as processes under the chart's RBAC in `namespace` (also the ingress
 * namespace and the Lease's). Logs go to `logDir`. `compiled` runs `node dist/...` as the image
 * does (after `npm run build`, checked); the default runs the sources through tsx.
 */
export async function startHookgate(
  info: ClusterInfo,
  opts: {
    namespace: string;
    logDir?: string;
    operatorArgs?: string[];
    ingressArgs?: string[];
    compiled?: boolean;
    /** Environment variables for the ingress beside this process's (e.g. OTEL_* for tracing). */
    ingressEnv?: NodeJS.ProcessEnv;
    /**
     * Flags for node itself, before the script (e.g. --cpu-prof, --heapsnapshot-signal), after the
     * chart's (`chartNodeOptions`).
     */
    nodeArgs?: string[];
    /**
     * Loopback stand-ins for the hosts outbound calls reach (SNS, PayPal, an OIDC issuer): the
     * ingress then runs through test/harness/ingress-with-stand-ins.ts, which passes them to
     * `main` as code; the production entry has no way to take them. Sources only (not compiled).
     */
    standIns?: { ca: string[]; hosts: Record<string, number> };
  },
): Promise<Hookgate> {
  const { namespace } = opts;
  const compiled = opts.compiled ?? false;
  if (compiled) await checkBuild();
  const logDir = opts.logDir ?? info.dir;
  const kubeconfigs = await installChartRbac(info, namespace);
  const [port, metricsPort, opMetrics, opHealth] = await freePorts(4);
  const url = `http://127.0.0.1:${port}`;
  const node = process.execPath;
  const chartFlags = await chartNodeOptions();
  const script = (file: 'ingress/server.ts' | 'operator/main.ts') => [
    ...chartFlags[file === 'operator/main.ts' ? 'operator' : 'ingress'],
    ...(opts.nodeArgs ?? []),
    ...(compiled
      ? [join(ROOT, 'dist', file.replace(/\.ts$/, '.js'))]
      : ['--import', 'tsx', join(ROOT, file)]),
  ];

  const standIns = opts.standIns ? join(logDir, `stand-ins-${namespace}.json`) : undefined;
  if (standIns) await writeFile(standIns, JSON.stringify(opts.standIns));
  const ingressScript = standIns
    ? [
        ...chartFlags.ingress,
        '--import',
        'tsx',
        join(ROOT, 'test/harness/ingress-with-stand-ins.ts'),
        standIns,
      ]
    : script('ingress/server.ts');
  let ingressStarts = 0;
  const spawnIngress = () =>
    spawnLogged(
      logDir,
      `ingress-${namespace}${ingressStarts++ ? `-${ingressStarts}` : ''}`,
      node,
      [
        ...ingressScript,
        `--kubeconfig=${kubeconfigs.ingress}`,
        `--namespace=${namespace}`,
        '--address=127.0.0.1',
        `--port=${port}`,
        `--metrics-port=${metricsPort}`,
        ...(opts.ingressArgs ?? []),
      ],
      opts.ingressEnv,
    );
  let ingress = spawnIngress();
  let starts = 0;
  const spawnOperator = () =>
    spawnLogged(logDir, `operator-${namespace}${starts++ ? `-${starts}` : ''}`, node, [
      ...script('operator/main.ts'),
      `--kubeconfig=${kubeconfigs.operator}`,
      `--public-base-url=${url}`,
      `--ingress-namespace=${namespace}`,
      `--lease-namespace=${namespace}`,
      `--metrics-port=${opMetrics}`,
      `--health-port=${opHealth}`,
      ...(opts.operatorArgs ?? []),
    ]);
  let operator = spawnOperator();
  const hg: Hookgate = {
    namespace,
    compiled,
    url,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    operatorMetricsUrl: `http://127.0.0.1:${opMetrics}/metrics`,
    operator: component(operator),
    ingress: component(ingress),
    startOperator: async () => {
      operator = spawnOperator();
      hg.operator = component(operator);
      await untilOk(`http://127.0.0.1:${opHealth}/readyz`, operator, 120_000);
    },
    startIngress: async () => {
      ingress = spawnIngress();
      hg.ingress = component(ingress);
      await untilOk(`${url}/readyz`, ingress, 120_000);
    },
    stop: async () => {
      await Promise.all([terminate(operator), terminate(ingress)]);
      await kubeconfigs.uninstall();
    },
  };
  try {
    await untilOk(`${url}/readyz`, ingress, 60_000);
    await untilOk(`http://127.0.0.1:${opHealth}/readyz`, operator, 60_000);
  } catch (err) {
    await hg.stop();
    throw err;
  }
  return hg;
}
