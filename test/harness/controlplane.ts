// The local control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok
// built from source by build.sh and started on free loopback ports in a fresh temporary directory.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { type AddressInfo, createServer } from 'node:net';
import { constants, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { runProcess } from './run.ts';

const here = dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);

/** What a process other than the one that started the control plane needs to use it. Serializable. */
export interface ClusterInfo {
  /** Run directory: certificates, kubeconfigs, data and logs; removed by stop(). */
  dir: string;
  binDir: string;
  /** Admin (system:masters) kubeconfig. */
  kubeconfigPath: string;
  etcdUrl: string;
}

export interface ApiServer {
  kubeconfigPath: string;
  port: number;
  /** Its process, e.g. to freeze it (SIGSTOP) as a hung API server would be. */
  pid: number;
  stop(): Promise<void>;
}

export interface ControlPlane extends ClusterInfo {
  kubeConfig(): KubeConfig;
  /** A kubeconfig file acting as the ServiceAccount (token from the TokenRequest API). */
  serviceAccountKubeconfig(namespace: string, name: string): Promise<string>;
  /** One more kube-apiserver on the same etcd, e.g. to stop it and see "API server unreachable". */
  startApiServer(): Promise<ApiServer>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Run directory to use (created if missing). Default: a fresh directory under the OS temp dir. */
  dir?: string;
  log?: (line: string) => void;
  /**
   * Client QPS of kube-controller-manager and kube-scheduler (defaults 20 and 50), for loads of
   * thousands of Jobs: at 20 the Job controller finishes about five runs a second.
   */
  apiQps?: number;
}

export const NODE_NAME = 'kwok-node-0';
const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

/** The pinned tool versions (versions.env), e.g. `K8S_VERSION`. */
export function pinnedVersions(): Record<string, string> {
  const text = readFileSync(join(here, 'versions.env'), 'utf8');
  return Object.fromEntries([...text.matchAll(/^(\w+)=(\S+)/gm)].map((m) => [m[1]!, m[2]!]));
}

export async function startControlPlane(opts: StartOptions = {}): Promise<ControlPlane> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const started = Date.now();
  const binDir = await buildBinaries(log);
  await sweepStaleRuns();
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), RUN_PREFIX)));
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'owner.pid'), String(process.pid));
  ownedDirs.add(dir);
  // Started in layers (etcd, API server, the rest) and stopped in reverse: an API server whose etcd
  // is gone, or a controller whose API server is gone, hangs on its shutdown for many seconds.
  const layers: Proc[][] = [];
  const extra = new Set<ApiServer>();
  let stopped = false;
  const stop = async () => {
    stopped = true;
    const [etcdLayer = [], apiLayer = [], componentLayer = []] = layers;
    await Promise.all(componentLayer.map(terminate));
    await Promise.all([...[...extra].map((a) => a.stop()), ...apiLayer.map(terminate)]);
    await Promise.all(etcdLayer.map(terminate));
    await rm(dir, { recursive: true, force: true });
    ownedDirs.delete(dir);
  };
  try {
    await generateCerts(dir);
    const [etcdClient, etcdPeer, apiPort] = await freePorts(3);
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    const etcd = spawnLogged(dir, 'etcd', join(binDir, 'etcd'), [
      '--name=default',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
      '--unsafe-no-fsync',
    ]);
    layers.push([etcd]);
    await until('etcd healthy', 30_000, [etcd], async () => (await fetch(`${etcdUrl}/health`)).ok);

    const info: ClusterInfo = { dir, binDir, kubeconfigPath: join(dir, 'admin.kubeconfig'), etcdUrl };
    const apiLayer = [await spawnApiServer(info, apiPort!, 'kube-apiserver')];
    layers.push(apiLayer);
    await writeKubeconfig(info.kubeconfigPath, dir, `https://127.0.0.1:${apiPort}`, adminUser(dir));

    const kubeconfig = `--kubeconfig=${info.kubeconfigPath}`;
    const qps = opts.apiQps ? [`--kube-api-qps=${opts.apiQps}`, `--kube-api-burst=${2 * opts.apiQps}`] : [];
    const controllers = [
      'job-controller',
      'garbage-collector-controller',
      'ttl-after-finished-controller',
      'namespace-controller',
      'serviceaccount-controller',
      'serviceaccount-token-controller',
      'root-ca-certificate-publisher-controller',
      // So that Deployments (the chart's) get pods, which kwok then marks Running.
      'deployment-controller',
      'replicaset-controller',
      // Fills the built-in view/edit/admin ClusterRoles from the roles labelled to aggregate to them.
      'clusterrole-aggregation-controller',
    ];
    const components = [
      spawnLogged(dir, 'kube-controller-manager', join(binDir, 'kube-controller-manager'), [
        kubeconfig,
        '--leader-elect=false',
        '--secure-port=0',
        '--use-service-account-credentials=true',
        `--root-ca-file=${pki(dir, 'ca.crt')}`,
        `--service-account-private-key-file=${pki(dir, 'sa.key')}`,
        `--controllers=${controllers.join(',')}`,
        ...qps,
      ]),
      spawnLogged(dir, 'kube-scheduler', join(binDir, 'kube-scheduler'), [
        kubeconfig,
        '--leader-elect=false',
        '--secure-port=0',
        ...qps,
      ]),
      spawnLogged(dir, 'kwok', join(binDir, 'kwok'), [
        kubeconfig,
        `--config=${join(here, 'kwok-stages.yaml')}`,
        // Only its fake node: with --manage-all-nodes it would also write fake statuses for the real
        // node's pods (realnode.ts).
        '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
        '--node-lease-duration-seconds=40',
        // Pod IPs only; keep them out of the service range.
        '--cidr=10.244.0.0/16',
      ]),
    ];
    layers.push(components);
    const procs = layers.flat();

    const kc = loadKubeConfig(info.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNode({
      body: {
        metadata: {
          name: NODE_NAME,
          annotations: { 'kwok.x-k8s.io/node': 'fake' },
          labels: { 'kubernetes.io/hostname': NODE_NAME, type: 'kwok' },
        },
        status: {
          capacity: { cpu: '64', memory: '256Gi', pods: '1000' },
          allocatable: { cpu: '64', memory: '256Gi', pods: '1000' },
        },
      },
    });
    // The node turning Ready proves kwok works; the default ServiceAccount, the controller manager.
    await Promise.all([
      until('fake node Ready (kwok)', 60_000, procs, async () => {
        const node = await core.readNode({ name: NODE_NAME });
        return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
      }),
      until('default ServiceAccount (kube-controller-manager)', 60_000, procs, async () => {
        await core.readNamespacedServiceAccount({ namespace: 'default', name: 'default' });
        return true;
      }),
    ]);
    log(`[cluster] control plane ready in ${((Date.now() - started) / 1000).toFixed(1)}s (run dir ${dir})`);

    for (const p of procs.filter((p) => !apiLayer.includes(p))) {
      void p.exited.then(() => {
        if (!p.stopping) log(`[cluster] ${p.name} exited unexpectedly; log: ${p.logPath}`);
      });
    }
    superviseApiServer(info, apiPort!, apiLayer, () => stopped, log);
    return {
      ...info,
      kubeConfig: () => loadKubeConfig(info.kubeconfigPath),
      serviceAccountKubeconfig: (namespace, name) => serviceAccountKubeconfig(info, namespace, name),
      startApiServer: async () => {
        const api = await startApiServer(info);
        const tracked: ApiServer = {
          ...api,
          stop: async () => {
            extra.delete(tracked);
            await api.stop();
          },
        };
        extra.add(tracked);
        return tracked;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Restarts the API server at its address whenever it exits unbidden, as the kubelet restarts a
 * static pod: an outage (the server killed, say after it hung) ends when it is back, for the tests,
 * the demo's kept environment and whatever runs against them. `layer[0]` is the live one.
 */
function superviseApiServer(
  info: ClusterInfo,
  port: number,
  layer: Proc[],
  stopped: () => boolean,
  log: (line: string) => void,
) {
  const proc = layer[0]!;
  void proc.exited.then(async () => {
    if (proc.stopping || stopped()) return;
    log(`[cluster] ${proc.name} exited unexpectedly; restarting it on port ${port} (log: ${proc.logPath})`);
    for (;;) {
      try {
        layer[0] = await spawnApiServer(info, port, proc.name);
        break;
      } catch (err) {
        if (stopped()) return;
        log(
          `[cluster] ${proc.name} did not come back (${(err as Error).message.split('\n')[0]}); trying again`,
        );
      }
    }
    if (stopped()) return void terminate(layer[0]!);
    log(`[cluster] ${proc.name} is back`);
    superviseApiServer(info, port, layer, stopped, log);
  });
}

/**
 * Starts one more kube-apiserver on the cluster's etcd. Usable from any process that has the info.
 * Pass the port of a stopped one to bring it back at the same address (what a client sees when its
 * API server restarts).
 */
export async function startApiServer(info: ClusterInfo, opts: { port?: number } = {}): Promise<ApiServer> {
  const port = opts.port ?? (await freePorts(1))[0]!;
  const proc = await spawnApiServer(info, port, `kube-apiserver-${port}`);
  const kubeconfigPath = join(info.dir, `kube-apiserver-${port}.kubeconfig`);
  await writeKubeconfig(kubeconfigPath, info.dir, `https://127.0.0.1:${port}`, adminUser(info.dir));
  // A frozen server ignores SIGTERM until it is thawed.
  const stop = async () => {
    proc.child.kill('SIGCONT');
    await terminate(proc);
  };
  return { kubeconfigPath, port, pid: proc.child.pid!, stop };
}

/** Writes a kubeconfig that authenticates as the ServiceAccount with a one-hour bound token. */
export async function serviceAccountKubeconfig(info: ClusterInfo, namespace: string, name: string) {
  const kc = loadKubeConfig(info.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const req = await core.createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const path = join(info.dir, `sa-${namespace}-${name}-${randomBytes(4).toString('hex')}.kubeconfig`);
  await writeKubeconfig(path, info.dir, kc.getCurrentCluster()!.server, { token: req.status!.token });
  return path;
}

const RUN_PREFIX = 'hookgate-cluster-';

/** Removes run directories (etcd data: ~120 MB) left by runs killed too hard to clean up. */
async function sweepStaleRuns() {
  for (const name of await readdir(tmpdir())) {
    if (!name.startsWith(RUN_PREFIX)) continue;
    const dir = join(tmpdir(), name);
    const owner = Number(await readFile(join(dir, 'owner.pid'), 'utf8').catch(() => ''));
    if (owner > 0 && !isAlive(owner)) await rm(dir, { recursive: true, force: true });
  }
}

/** Whether a process `pid` exists (one of another user's answers EPERM, and exists). */
export function isAlive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

async function buildBinaries(log: (line: string) => void): Promise<string> {
  const r = await runProcess('bash', [join(here, 'build.sh')], { onStderrLine: log });
  if (r.code !== 0) throw new Error(`test/harness/build.sh failed with exit code ${r.code}`);
  return r.stdout.trim().split('\n').pop()!;
}

// --- certificates --------------------------------------------------------------------------------

const pki = (dir: string, file: string) => join(dir, 'pki', file);

const OPENSSL_CONFIG = `
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
`;

async function generateCerts(dir: string) {
  await mkdir(join(dir, 'pki'));
  const cnf = pki(dir, 'openssl.cnf');
  await writeFile(cnf, OPENSSL_CONFIG);
  // P-256 rather than RSA: key generation is instant, and Go, Node and the token signer accept it.
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '3650'];
  const cert = (name: string, subj: string, ext: string, signed: boolean) =>
    run('openssl', [
      'req',
      '-x509',
      ...ec,
      '-config',
      cnf,
      '-extensions',
      ext,
      '-subj',
      subj,
      ...(signed ? ['-CA', pki(dir, 'ca.crt'), '-CAkey', pki(dir, 'ca.key')] : []),
      '-keyout',
      pki(dir, `${name}.key`),
      '-out',
      pki(dir, `${name}.crt`),
    ]);
  await cert('ca', '/CN=hookgate-local-ca', 'ca', false);
  await Promise.all([
    cert('apiserver', '/CN=kube-apiserver', 'server', true),
    cert('admin', '/O=system:masters/CN=hookgate-admin', 'client', true),
    (async () => {
      await run('openssl', [
        'genpkey',
        '-algorithm',
        'EC',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-out',
        pki(dir, 'sa.key'),
      ]);
      await run('openssl', ['pkey', '-in', pki(dir, 'sa.key'), '-pubout', '-out', pki(dir, 'sa.pub')]);
    })(),
  ]);
}

type User = { token: string } | { certFile: string; keyFile: string };
const adminUser = (dir: string): User => ({
  certFile: pki(dir, 'admin.crt'),
  keyFile: pki(dir, 'admin.key'),
});

async function writeKubeconfig(path: string, dir: string, server: string, user: User) {
  const b64 = async (file: string) => (await readFile(file)).toString('base64');
  const credentials =
    'token' in user
      ? { token: user.token }
      : { 'client-certificate-data': await b64(user.certFile), 'client-key-data': await b64(user.keyFile) };
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'hookgate', cluster: { server, 'certificate-authority-data': await b64(pki(dir, 'ca.crt')) } },
    ],
    users: [{ name: 'user', user: credentials }],
    contexts: [{ name: 'hookgate', context: { cluster: 'hookgate', user: 'user' } }],
    'current-context': 'hookgate',
  };
  // JSON is YAML; every kubeconfig reader accepts it.
  await writeFile(path, JSON.stringify(config, null, 2), { mode: 0o600 });
}

// --- processes -----------------------------------------------------------------------------------

export interface Proc {
  name: string;
  child: ChildProcess;
  logPath: string;
  exited: Promise<void>;
  stopping: boolean;
}

// Everything this process started, so that exit and signals take it down too.
const live = new Set<Proc>();
const ownedDirs = new Set<string>();
let exitHooked = false;

function hookExit() {
  if (exitHooked) return;
  exitHooked = true;
  const killAll = () => {
    for (const p of live) {
      p.stopping = true;
      p.child.kill('SIGKILL');
    }
    for (const dir of ownedDirs) rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', killAll);
  // A vitest worker (forked, with an IPC channel) whose parent died may run on until its test ends.
  if (process.send) process.on('disconnect', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    // Listening disables the default "terminate". Restore it unless someone else handles the
    // signal (main.ts stops in order); either way, exit kills whatever is left.
    process.on(sig, () => {
      if (process.listenerCount(sig) === 1) process.exit(128 + constants.signals[sig]);
    });
  }
}

// setpriv --pdeathsig: the kernel kills the child when this process dies, even by SIGKILL, so a
// crashed test run cannot leave servers behind.
const SETPRIV = existsSync('/usr/bin/setpriv') ? '/usr/bin/setpriv' : undefined;

export function spawnLogged(
  dir: string,
  name: string,
  bin: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
): Proc {
  hookExit();
  const logPath = join(dir, `${name}.log`);
  const fd = openSync(logPath, 'a');
  const [cmd, argv] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '--', bin, ...args]] : [bin, args];
  // Own process group when the kernel guards its lifetime: a terminal's Ctrl-C then reaches only
  // us, and we stop everything in order instead of racing the servers' own shutdowns.
  const child = spawn(cmd, argv, {
    stdio: ['ignore', fd, fd],
    detached: SETPRIV !== undefined,
    ...(env ? { env: { ...process.env, ...env } } : {}),
  });
  closeSync(fd);
  const proc: Proc = { name, child, logPath, stopping: false, exited: Promise.resolve() };
  proc.exited = new Promise<void>((resolve) => {
    child.once('error', () => resolve());
    child.once('exit', () => resolve());
  }).then(() => {
    live.delete(proc);
  });
  live.add(proc);
  return proc;
}

const hasExited = (p: Proc) => p.child.exitCode !== null || p.child.signalCode !== null || !p.child.pid;

/** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
export async function terminate(p: Proc) {
  p.stopping = true;
  if (hasExited(p)) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 5_000);
  await p.exited;
  clearTimeout(timer);
}

/** The pid of the control plane's own kube-apiserver (the one `startControlPlane` keeps running). */
export async function apiServerPid(info: ClusterInfo): Promise<number> {
  return Number(await readFile(join(info.dir, 'kube-apiserver.pid'), 'utf8'));
}

async function spawnApiServer(info: ClusterInfo, port: number, name: string) {
  const { dir } = info;
  const proc = spawnLogged(dir, name, join(info.binDir, 'kube-apiserver'), [
    `--etcd-servers=${info.etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${port}`,
    `--tls-cert-file=${pki(dir, 'apiserver.crt')}`,
    `--tls-private-key-file=${pki(dir, 'apiserver.key')}`,
    `--client-ca-file=${pki(dir, 'ca.crt')}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--allow-privileged=true',
    '--authorization-mode=RBAC',
    `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
    `--service-account-key-file=${pki(dir, 'sa.pub')}`,
    `--service-account-signing-key-file=${pki(dir, 'sa.key')}`,
    // It taints every new Node not-ready, and only the node lifecycle controller (not run: nothing
    // here needs evictions) would lift the taint.
    '--disable-admission-plugins=TaintNodesByCondition',
    // The `kubernetes` Service cannot point at 127.0.0.1 (loopback endpoints are invalid), and no
    // real pod ever calls it here.
    '--endpoint-reconciler-type=none',
  ]);
  const tls = {
    ca: await readFile(pki(dir, 'ca.crt')),
    cert: await readFile(pki(dir, 'admin.crt')),
    key: await readFile(pki(dir, 'admin.key')),
  };
  await writeFile(join(dir, `${name}.pid`), String(proc.child.pid));
  try {
    await until(`${name} /readyz`, 60_000, [proc], async () => {
      return (await httpsStatus(`https://127.0.0.1:${port}/readyz`, tls)) === 200;
    });
  } catch (err) {
    await terminate(proc);
    throw err;
  }
  return proc;
}

function httpsStatus(url: string, tls: { ca: Buffer; cert: Buffer; key: Buffer }): Promise<number> {
  return new Promise((resolve) => {
    const req = https.get(url, { ...tls, timeout: 5_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

/** Polls `ready` until true; fails early, naming the log, if one of `procs` exits meanwhile. */
async function until(what: string, timeoutMs: number, procs: Proc[], ready: () => Promise<boolean>) {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    const dead = procs.find(hasExited);
    if (dead) throw new Error(`${dead.name} exited while waiting for ${what}\n${await logTail(dead)}`);
    try {
      if (await ready()) return;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const logs = (await Promise.all(procs.map(logTail))).join('\n');
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what} (last error: ${lastError})\n${logs}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function logTail(p: Proc, lines = 15) {
  const text = await readFile(p.logPath, 'utf8').catch(() => '');
  const tail = text.trimEnd().split('\n').slice(-lines).join('\n');
  return `--- ${p.name} log: ${p.logPath} (last ${lines} lines)\n${tail}`;
}

/** Ports free right now. All are held open together so that one call never returns the same port twice. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}
