// How the operator and the ingress reach the API server: the in-cluster ServiceAccount, or a
// kubeconfig file whose user has a token or a client certificate. Not client-node's KubeConfig for
// these: importing it loads every generated model and API class, about 70 MiB of RSS per process
// (measured: an idle ingress 126 MiB with it, see BENCHMARKS.md "bench-scale"). A kubeconfig this
// reader does not cover (exec or auth-provider users, proxies, several files) falls back to
// client-node's, loaded only then.
import { readFileSync, statSync } from 'node:fs';
import type https from 'node:https';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/** What hookgate's API client needs of a kubeconfig; client-node's KubeConfig has it too (tests pass one). */
export interface KubeAccess {
  getCurrentCluster(): { server: string; tlsServerName?: string; proxyUrl?: string } | null;
  /** CA, client certificate and key, and the Authorization header (a token file re-read when it changes). */
  applyToHTTPSOptions(opts: https.RequestOptions): Promise<void>;
}

interface Access {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  skipTLSVerify?: boolean;
  tlsServerName?: string;
  token?: string;
  tokenFile?: string;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

class StaticAccess implements KubeAccess {
  #file: { mtimeMs: number; token: string } | undefined;

  constructor(private readonly a: Access) {}

  getCurrentCluster() {
    return {
      server: this.a.server,
      ...(this.a.tlsServerName ? { tlsServerName: this.a.tlsServerName } : {}),
    };
  }

  async applyToHTTPSOptions(opts: https.RequestOptions): Promise<void> {
    if (this.a.ca) opts.ca = this.a.ca;
    if (this.a.cert) opts.cert = this.a.cert;
    if (this.a.key) opts.key = this.a.key;
    if (this.a.skipTLSVerify) opts.rejectUnauthorized = false;
    if (this.a.tlsServerName) opts.servername = this.a.tlsServerName;
    const token = this.token();
    if (token) opts.headers = { ...opts.headers, Authorization: `Bearer ${token}` };
  }

  /** A projected ServiceAccount token is rotated by the kubelet: read again whenever the file changes. */
  private token(): string | undefined {
    if (!this.a.tokenFile) return this.a.token;
    const { mtimeMs } = statSync(this.a.tokenFile);
    if (this.#file?.mtimeMs !== mtimeMs)
      this.#file = { mtimeMs, token: readFileSync(this.a.tokenFile, 'utf8').trim() };
    return this.#file.token;
  }
}

type Named<T> = { name: string } & T;
interface KubeconfigFile {
  'current-context'?: string;
  contexts?: Named<{ context: { cluster: string; user: string } }>[];
  clusters?: Named<{
    cluster: {
      server: string;
      'certificate-authority-data'?: string;
      'certificate-authority'?: string;
      'insecure-skip-tls-verify'?: boolean;
      'tls-server-name'?: string;
      'proxy-url'?: string;
    };
  }>[];
  users?: Named<{ user?: Record<string, unknown> }>[];
}

const USER_KEYS = new Set([
  'token',
  'tokenFile',
  'client-certificate-data',
  'client-certificate',
  'client-key-data',
  'client-key',
]);

/**
 * The access a kubeconfig file describes, or undefined when it needs more than this reader covers
 * (then client-node's KubeConfig reads it).
 */
export async function parseKubeconfig(text: string, dir: string): Promise<Access | undefined> {
  // JSON is YAML; the YAML parser (~8 MiB) is loaded only for a file that needs it.
  const file = (
    text.trimStart().startsWith('{') ? JSON.parse(text) : (await import('yaml')).parse(text)
  ) as KubeconfigFile;
  const context = file.contexts?.find((c) => c.name === file['current-context'])?.context;
  if (!context) throw new Error(`kubeconfig: no context named "${file['current-context'] ?? ''}"`);
  const cluster = file.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster?.server) throw new Error(`kubeconfig: no cluster named "${context.cluster}" with a server`);
  const user = file.users?.find((u) => u.name === context.user)?.user ?? {};
  if (cluster['proxy-url'] || Object.keys(user).some((k) => !USER_KEYS.has(k))) return undefined;
  const data = (v: unknown) => (typeof v === 'string' ? Buffer.from(v, 'base64') : undefined);
  const path = (v: unknown) => (typeof v === 'string' ? readFileSync(resolve(dir, v)) : undefined);
  return {
    server: cluster.server,
    ca: data(cluster['certificate-authority-data']) ?? path(cluster['certificate-authority']),
    cert: data(user['client-certificate-data']) ?? path(user['client-certificate']),
    key: data(user['client-key-data']) ?? path(user['client-key']),
    skipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
    tlsServerName: cluster['tls-server-name'],
    token: typeof user.token === 'string' ? user.token : undefined,
    tokenFile: typeof user.tokenFile === 'string' ? resolve(dir, user.tokenFile) : undefined,
  };
}

const exists = (path: string) => {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
};

/**
 * The components' kubeconfig, found as client-node's `loadFromDefault` finds it: the given file,
 * else $KUBECONFIG, else ~/.kube/config, else the in-cluster ServiceAccount.
 */
export async function loadKubeAccess(kubeconfigPath?: string): Promise<KubeAccess> {
  const file = kubeconfigPath ?? process.env.KUBECONFIG ?? join(homedir(), '.kube', 'config');
  const single = !file.includes(':') || kubeconfigPath !== undefined;
  if (single && exists(file)) {
    const access = await parseKubeconfig(readFileSync(file, 'utf8'), dirname(resolve(file)));
    if (access) return new StaticAccess(access);
  } else if (!process.env.KUBECONFIG && process.env.KUBERNETES_SERVICE_HOST) {
    const host = process.env.KUBERNETES_SERVICE_HOST;
    return new StaticAccess({
      server: `https://${host.includes(':') ? `[${host}]` : host}:${process.env.KUBERNETES_SERVICE_PORT ?? '443'}`,
      ca: readFileSync(join(SERVICE_ACCOUNT_DIR, 'ca.crt')),
      tokenFile: join(SERVICE_ACCOUNT_DIR, 'token'),
    });
  }
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
  else kc.loadFromDefault();
  return kc;
}
