// A real node beside the kwok one: containerd (Debian's, with its root, state, socket, runc root,
// network namespaces and CNI config all in a temp dir of its own) and a kubelet of the control
// plane's version. Pods choose it with REAL_NODE_POD (a label and a matching taint, so ordinary test
// pods keep going to kwok). Stopping it removes every container, mount, network namespace, cgroup
// and the bridge it created, and only those.
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig, type V1PodSpec } from '@kubernetes/client-node';
import {
  type ClusterInfo,
  freePorts,
  isAlive,
  logTail,
  type Proc,
  spawnLogged,
  terminate,
} from './controlplane.ts';
import { type Image, nodeImages, PAUSE_IMAGE } from './images.ts';

const run = promisify(execFile);
const here = import.meta.dirname;

export const REAL_NODE = 'hookgate-real-node';
export const REAL_NODE_KEY = 'hookgate.io/node';
/** What a pod spec needs to run on the real node (and nothing else does). */
export const REAL_NODE_POD: Pick<V1PodSpec, 'nodeSelector' | 'tolerations'> = {
  nodeSelector: { [REAL_NODE_KEY]: 'real' },
  tolerations: [{ key: REAL_NODE_KEY, operator: 'Equal', value: 'real', effect: 'NoSchedule' }],
};

export interface RealNode {
  name: string;
  /** Where the kubelet writes container logs: `<ns>_<pod>_<uid>/<container>/<restart>.log`. */
  podLogsDir: string;
  images: Image[];
  /** Loads one more image into the node's containerd. */
  importImage(image: Image): Promise<void>;
  stop(): Promise<void>;
}

/** Why this machine cannot run a real node, or undefined when it can. */
export function realNodeUnsupported(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not root (containerd and the kubelet need root)';
  if (!existsSync('/proc/self/ns/net') || !existsSync('/sys/fs/cgroup')) return 'no namespaces or cgroups';
  if (!readFileSync('/proc/filesystems', 'utf8').includes('overlay')) return 'no overlay filesystem';
  // apt-get's progress goes to our stderr; the reason it cannot, to its stdout.
  const deps = spawnSync('bash', [join(here, 'node-deps.sh')], { stdio: ['ignore', 'pipe', 'inherit'] });
  if (deps.status !== 0) return `node-deps.sh: ${String(deps.stdout).trim() || `exit ${deps.status}`}`;
  return undefined;
}

/** Starts containerd and a kubelet registered as REAL_NODE; resolves once the node is Ready. */
export async function startRealNode(info: ClusterInfo, log: (line: string) => void): Promise<RealNode> {
  const started = Date.now();
  const id = randomBytes(3).toString('hex');
  sweepStaleNodes();
  // Not under the control plane's run dir: that one is removed with a plain rm, and mounts in here
  // would make it fail. Short, too: containerd's socket path must fit in 108 bytes.
  const dir = await mkdtemp(join(tmpdir(), NODE_PREFIX));
  const res: Resources = {
    dir,
    socket: join(dir, 'containerd.sock'),
    bridge: `hgbr${id}`,
    cgroup: `hookgate-${id}`,
    procs: [],
    stopped: false,
  };
  resources.add(res);
  hookExit();
  await writeFile(join(dir, 'owner.pid'), String(process.pid));
  res.apiRule = apiRule(res, info);
  await writeFile(
    join(dir, 'node.json'),
    JSON.stringify({ bridge: res.bridge, cgroup: res.cgroup, apiRule: res.apiRule }),
  );
  const stop = async () => {
    const kubelet = res.procs.find((p) => p.name === 'kubelet');
    if (kubelet) await terminate(kubelet);
    cleanup(res);
    await Promise.all(res.procs.map(terminate));
    unmountAndRemove(res);
  };
  try {
    await mkdir(join(dir, 'cni'), { recursive: true });
    const subnet = await freeSubnet();
    await writeFile(join(dir, 'cni/10-hookgate.conflist'), cniConfig(res, subnet));
    await serviceRoute(res, subnet);
    await writeFile(join(dir, 'containerd.toml'), await containerdConfig(res));
    const containerd = spawnLogged(info.dir, 'containerd', '/usr/bin/containerd', [
      `--config=${join(dir, 'containerd.toml')}`,
    ]);
    res.procs.push(containerd);
    const [images] = await Promise.all([
      nodeImages(),
      until('containerd socket', 30_000, containerd, async () => {
        await ctr(res, 'version');
        return true;
      }),
    ]);
    for (const image of images) await ctr(res, '-n', 'k8s.io', 'images', 'import', image.archive);

    makeCgroupRoot(res.cgroup);
    const podLogsDir = join(dir, 'pods-logs');
    await writeFile(join(dir, 'kubelet.yaml'), kubeletConfig(res, podLogsDir, (await freePorts(1))[0]!));
    const kubelet = spawnLogged(info.dir, 'kubelet', join(info.binDir, 'kubelet'), [
      `--config=${join(dir, 'kubelet.yaml')}`,
      `--kubeconfig=${info.kubeconfigPath}`,
      `--root-dir=${join(dir, 'kubelet')}`,
      `--hostname-override=${REAL_NODE}`,
      '--node-ip=127.0.0.1',
      `--node-labels=${REAL_NODE_KEY}=real`,
      `--register-with-taints=${REAL_NODE_KEY}=real:NoSchedule`,
    ]);
    res.procs.push(kubelet);
    const kc = new KubeConfig();
    kc.loadFromFile(info.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    await until('real node Ready (kubelet)', 90_000, kubelet, async () => {
      const node = await core.readNode({ name: REAL_NODE });
      return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    });
    log(
      `[cluster] real node ${REAL_NODE} Ready in ${((Date.now() - started) / 1000).toFixed(1)}s (bridge ${res.bridge}, ${subnet})`,
    );
    for (const p of res.procs) {
      void p.exited.then(() => {
        if (!p.stopping) log(`[cluster] ${p.name} exited unexpectedly; log: ${p.logPath}`);
      });
    }
    return {
      name: REAL_NODE,
      podLogsDir,
      images,
      importImage: async (image) => {
        await ctr(res, '-n', 'k8s.io', 'images', 'import', image.archive);
        images.push(image);
      },
      stop: async () => {
        await stop();
        resources.delete(res);
      },
    };
  } catch (err) {
    await stop();
    resources.delete(res);
    throw err;
  }
}

/** The container's log from the kubelet's files: the text of each CRI log line, joined. */
export async function containerLog(
  node: Pick<RealNode, 'podLogsDir'>,
  namespace: string,
  pod: string,
  container: string,
) {
  const dirs = readdirSync(node.podLogsDir).filter((d) => d.startsWith(`${namespace}_${pod}_`));
  if (dirs.length === 0) return undefined;
  const text = await readFile(join(node.podLogsDir, dirs[0]!, container, '0.log'), 'utf8').catch(() => '');
  // CRI format: `<time> <stream> <P|F> <text>`; P marks a line the runtime split (over 16 KiB).
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [, , tag, ...rest] = line.split(' ');
      return rest.join(' ') + (tag === 'F' ? '\n' : '');
    })
    .join('');
}

// --- configuration -------------------------------------------------------------------------------

interface Resources {
  dir: string;
  socket: string;
  bridge: string;
  /** The iptables rule (nat PREROUTING) that takes pods to the API server, once added. */
  apiRule?: string[];
  cgroup: string;
  procs: Proc[];
  stopped: boolean;
}

async function containerdConfig(res: Resources) {
  const { stdout } = await run('/usr/bin/containerd', ['config', 'default']);
  const set = (text: string, re: RegExp, value: string) => {
    if (!re.test(text)) throw new Error(`containerd config default: no match for ${re}`);
    return text.replace(re, (_m, key: string) => `${key}${value}`);
  };
  let c = stdout;
  c = set(c, /^(root = ).*$/m, JSON.stringify(join(res.dir, 'containerd/root')));
  c = set(c, /^(state = ).*$/m, JSON.stringify(join(res.dir, 'containerd/state')));
  c = set(c, /^(\s*address = )"\/run\/containerd\/containerd.sock"$/m, JSON.stringify(res.socket));
  // These VMs forbid lowering oom_score_adj; without this every sandbox fails to start.
  c = set(c, /^(\s*restrict_oom_score_adj = ).*$/m, 'true');
  c = set(c, /^(\s*netns_mounts_under_state_dir = ).*$/m, 'true');
  c = set(c, /^(\s*sandbox_image = ).*$/m, JSON.stringify(PAUSE_IMAGE));
  c = set(c, /^(\s*bin_dir = ).*$/m, '"/usr/lib/cni"');
  c = set(c, /^(\s*conf_dir = ).*$/m, JSON.stringify(join(res.dir, 'cni')));
  c = set(c, /^(\s*Root = ).*$/m, JSON.stringify(join(res.dir, 'runc')));
  c = set(c, /^(\s*path = )"\/opt\/containerd"$/m, JSON.stringify(join(res.dir, 'containerd/opt')));
  return c;
}

function cniConfig(res: Resources, subnet: string) {
  return JSON.stringify({
    cniVersion: '0.4.0',
    name: `hookgate-${res.bridge}`,
    plugins: [
      {
        type: 'bridge',
        bridge: res.bridge,
        isGateway: true,
        // Pods reach only this machine: no masquerade, no default route.
        ipMasq: false,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet }]],
          // Only the Service range (the `kubernetes` Service), through the bridge; no default route.
          routes: [{ dst: SERVICE_RANGE }],
          dataDir: join(res.dir, 'ipam'),
        },
      },
    ],
  });
}

const SERVICE_RANGE = '10.0.0.0/24';
const KUBERNETES_SERVICE_IP = '10.0.0.1';

/**
 * Pods reach the API server as in-cluster clients do, at the `kubernetes` Service (10.0.0.1:443):
 * one DNAT rule, only for packets arriving on our bridge, to the API server on 127.0.0.1 (allowed
 * by route_localnet on our bridge alone). It stands in for kube-proxy for this one Service; the
 * serving certificate names 10.0.0.1.
 */
function apiRule(res: Resources, info: ClusterInfo) {
  const kc = new KubeConfig();
  kc.loadFromFile(info.kubeconfigPath);
  const apiPort = new URL(kc.getCurrentCluster()!.server).port;
  return [
    'PREROUTING',
    ...['-i', res.bridge, '-d', `${KUBERNETES_SERVICE_IP}/32`, '-p', 'tcp', '--dport', '443'],
    ...['-m', 'comment', '--comment', `hookgate real node ${res.bridge}`],
    ...['-j', 'DNAT', '--to-destination', `127.0.0.1:${apiPort}`],
  ];
}

/** Creates the bridge with its gateway address now (CNI would on the first pod) and the API rule. */
async function serviceRoute(res: Resources, subnet: string) {
  const gateway = subnet.replace(/0\/24$/, '1/24');
  await run('ip', ['link', 'add', 'name', res.bridge, 'type', 'bridge']);
  await run('ip', ['addr', 'add', gateway, 'dev', res.bridge]);
  await run('ip', ['link', 'set', res.bridge, 'up']);
  await writeFile(`/proc/sys/net/ipv4/conf/${res.bridge}/route_localnet`, '1');
  await run('iptables', ['-t', 'nat', '-A', ...res.apiRule!]);
}

/** A /24 in 10.213.0.0/16 that no interface on this machine has an address in. */
async function freeSubnet() {
  const { stdout } = await run('ip', ['-4', '-o', 'addr']);
  for (let i = 0; i < 50; i++) {
    const third = 1 + Math.floor(Math.random() * 254);
    if (!stdout.includes(` 10.213.${third}.`)) return `10.213.${third}.0/24`;
  }
  throw new Error('no free /24 in 10.213.0.0/16');
}

function kubeletConfig(res: Resources, podLogsDir: string, port: number) {
  return JSON.stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // These VMs run cgroup v1, which 1.35 refuses unless told.
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    // Its own cgroup root: a kubelet cleans up pod cgroups it does not know, so two kubelets on one
    // machine must not share /kubepods.
    cgroupRoot: `/${res.cgroup}`,
    containerRuntimeEndpoint: `unix://${res.socket}`,
    podLogsDir,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: false } },
    authorization: { mode: 'AlwaysAllow' },
    address: '127.0.0.1',
    port,
    healthzPort: 0,
    readOnlyPort: 0,
    failSwapOn: false,
    clusterDNS: [],
    resolvConf: '',
    enforceNodeAllocatable: [],
    evictionHard: {},
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
  });
}

const CGROUP = '/sys/fs/cgroup';

function cgroupHierarchies(): string[] {
  // v1: one directory per mounted hierarchy; v2: the root itself.
  if (existsSync(join(CGROUP, 'cgroup.controllers'))) return [CGROUP];
  return readdirSync(CGROUP)
    .map((d) => join(CGROUP, d))
    .filter((d) => existsSync(join(d, 'cgroup.procs')));
}

function makeCgroupRoot(name: string) {
  for (const h of cgroupHierarchies()) {
    const dir = join(h, name);
    if (!existsSync(dir)) execFileSync('mkdir', [dir]);
    // A new v1 cpuset has no cpus or mems, and nothing could run in it.
    for (const f of ['cpuset.cpus', 'cpuset.mems']) {
      if (existsSync(join(dir, f))) writeFileSync(join(dir, f), readFileSync(join(h, f)));
    }
  }
}

// --- teardown ------------------------------------------------------------------------------------

function ctr(res: Resources, ...args: string[]) {
  return run('/usr/bin/ctr', ['--address', res.socket, ...args], { timeout: 60_000 });
}

/**
 * Kills every shim and container process this node started, found by its socket and its cgroup,
 * without containerd and synchronously (so also on exit). Then removes the bridge.
 */
function cleanup(res: Resources) {
  if (res.stopped) return;
  res.stopped = true;
  // Shims outlive containerd by design; each names our socket on its command line.
  for (const pid of safeReaddir('/proc').map(Number)) {
    if (pid > 1 && safeRead(`/proc/${pid}/cmdline`).includes(`\0${res.socket}\0`)) killQuietly(pid);
  }
  // Every container process (pause, and each container's own children) is under our cgroup root.
  for (const h of cgroupHierarchies()) {
    for (const procs of cgroupFiles(join(h, res.cgroup), 'cgroup.procs')) {
      for (const pid of safeRead(procs).split('\n').map(Number)) if (pid > 1) killQuietly(pid);
    }
  }
  if (res.apiRule) spawnSync('iptables', ['-t', 'nat', '-D', ...res.apiRule], { stdio: 'ignore' });
  spawnSync('ip', ['link', 'delete', res.bridge], { stdio: 'ignore' });
}

/** After the processes are gone: unmount what is under our dir, remove our cgroups and the dir. */
function unmountAndRemove(res: Resources) {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === res.dir || m.startsWith(`${res.dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
  for (const h of cgroupHierarchies()) {
    const dirs = cgroupFiles(join(h, res.cgroup), '').sort((a, b) => b.length - a.length);
    for (const d of dirs) {
      try {
        rmdirSync(d);
      } catch {
        // Still has a process in it for a moment; the kernel refuses, and there is nothing to leak.
      }
    }
  }
  try {
    rmSync(res.dir, { recursive: true, force: true });
  } catch {
    // A mount the kernel would not let go of: the next run's sweep tries again.
  }
}

const NODE_PREFIX = 'hookgate-node-';

/** Real nodes of runs that died too hard to clean up (SIGKILL): their containers, mounts, bridge. */
function sweepStaleNodes() {
  for (const name of safeReaddir(tmpdir())) {
    if (!name.startsWith(NODE_PREFIX)) continue;
    const dir = join(tmpdir(), name);
    const owner = Number(safeRead(join(dir, 'owner.pid')));
    if (!(owner > 0) || isAlive(owner)) continue;
    const { bridge, cgroup, apiRule } = JSON.parse(safeRead(join(dir, 'node.json')) || '{}');
    if (!bridge || !cgroup) continue;
    const res: Resources = {
      dir,
      socket: join(dir, 'containerd.sock'),
      bridge,
      apiRule,
      cgroup,
      procs: [],
      stopped: false,
    };
    cleanup(res);
    unmountAndRemove(res);
  }
}

/** Every directory under `root` (depth first), or `root/<dir>/<file>` when a file name is given. */
function cgroupFiles(root: string, file: string): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of safeReaddir(d)) {
      const p = join(d, e);
      if (statSync(p, { throwIfNoEntry: false })?.isDirectory()) walk(p);
    }
    out.push(file ? join(d, file) : d);
  };
  walk(root);
  return out;
}

const safeReaddir = (d: string) => {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
};
const safeRead = (f: string) => {
  try {
    return readFileSync(f, 'utf8');
  } catch {
    return '';
  }
};
const killQuietly = (pid: number) => {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
};

// A test run killed by a signal or ending without stop() still takes its containers down.
const resources = new Set<Resources>();
let exitHooked = false;
function hookExit() {
  if (exitHooked) return;
  exitHooked = true;
  // Before the control plane's exit hook, which removes the run directory these mounts are in.
  process.prependListener('exit', () => {
    for (const res of resources) {
      cleanup(res);
      unmountAndRemove(res);
    }
  });
}

async function until(what: string, timeoutMs: number, proc: Proc, ready: () => Promise<boolean>) {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null)
      throw new Error(`${proc.name} exited waiting for ${what}\n${await logTail(proc, 30)}`);
    try {
      if (await ready()) return;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what} (last error: ${lastError})\n${await logTail(proc, 30)}`);
}
