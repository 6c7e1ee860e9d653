import { z } from 'zod';
import { byteSize, commaList, dnsLabel, duration, loadFlags, logLevel, port } from '../../lib/config.ts';
import { DEFAULT_BODY_LIMITS } from '../body-budget.ts';
import { DEFAULT_FLOOD_LIMIT } from '../flood-guard.ts';
import { trustedProxies } from './client-ip.ts';

const Schema = z
  .object({
    namespace: dnsLabel,
    address: z.string().min(1).default('0.0.0.0'),
    port: port.default(8080),
    metricsPort: port.default(9090),
    trustedProxies: commaList.superRefine((cidrs, ctx) => {
      try {
        trustedProxies(cidrs);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    }),
    logLevel,
    kubeconfig: z.string().min(1).optional(),
    requestTimeout: duration.default(30_000),
    keepAliveTimeout: duration.default(72_000),
    shutdownTimeout: duration.default(25_000),
    maxHeaderBytes: z.coerce.number().int().min(1024).max(65_536).default(16_384),
    peersService: z.string().min(1).max(63).optional(),
    podIp: z.string().min(1).optional(),
    floodLimit: z.coerce.number().int().min(1).max(1_000_000).default(DEFAULT_FLOOD_LIMIT.requests),
    floodPeriod: duration
      .refine((ms) => ms >= 1000 && ms <= 3_600_000, 'between 1s and 1h')
      .default(DEFAULT_FLOOD_LIMIT.periodSeconds * 1000),
    // A body of the largest maxBodyBytes (1 MiB) must fit in one address's share.
    bodyBudget: byteSize.default(DEFAULT_BODY_LIMITS.total),
    clientBodyBudget: byteSize
      .refine((n) => n >= 1024 * 1024, 'at least 1Mi (the largest maxBodyBytes)')
      .default(DEFAULT_BODY_LIMITS.perClient),
  })
  .refine((c) => c.bodyBudget >= c.clientBodyBudget, {
    path: ['bodyBudget'],
    message: 'must be at least --client-body-budget',
  });

/** The ingress's configuration. Durations are in milliseconds. */
export type IngressConfig = z.output<typeof Schema>;

const FLAGS = {
  namespace: 'namespace',
  address: 'address',
  port: 'port',
  'metrics-port': 'metricsPort',
  'trusted-proxies': 'trustedProxies',
  'log-level': 'logLevel',
  kubeconfig: 'kubeconfig',
  'request-timeout': 'requestTimeout',
  'keep-alive-timeout': 'keepAliveTimeout',
  'shutdown-timeout': 'shutdownTimeout',
  'max-header-bytes': 'maxHeaderBytes',
  'peers-service': 'peersService',
  'pod-ip': 'podIp',
  'flood-limit': 'floodLimit',
  'flood-period': 'floodPeriod',
  'body-budget': 'bodyBudget',
  'client-body-budget': 'clientBodyBudget',
} as const;

export const USAGE = `Usage: node dist/ingress/server.js [flags]   (from a checkout: npx tsx ingress/server.ts)
  --namespace NS             where the operator publishes route Secrets (default: $POD_NAMESPACE or hookgate-system)
  --address ADDR             listen address of both ports (default 0.0.0.0)
  --port N                   webhooks, /healthz and /readyz (default 8080)
  --metrics-port N           /metrics (default 9090; 0 = off)
  --trusted-proxies a,b      CIDRs of proxies whose X-Forwarded-For names the client (default: none)
  --log-level LEVEL          trace|debug|info|warn|error|fatal (default info)
  --kubeconfig PATH          (default: in-cluster, else $KUBECONFIG or ~/.kube/config)
  --request-timeout D        time a client has to send a whole request (default 30s)
  --keep-alive-timeout D     idle keep-alive connections are closed after this (default 72s)
  --shutdown-timeout D       on SIGTERM, how long in-flight requests may finish (default 25s)
  --max-header-bytes N       request header size cap (default 16384)
  --peers-service NAME       the ingress's Service: its ready endpoints are the replicas that share each
                             trigger's rate limit (default: none, this replica enforces all of it)
  --pod-ip ADDR              this replica's address among them (default: $POD_IP)
  --flood-limit N            unverified requests a client address may send per --flood-period before
                             all its requests are refused (429) from their headers (default 600)
  --flood-period D           the flood guard's window (default 1m)
  --body-budget N            bytes of request bodies held at once before new ones are answered 503
                             (default 64Mi)
  --client-body-budget N     bytes of request bodies one client address may have in flight before its
                             new ones are answered 429 (default 8Mi, at least 1Mi)
Every flag can be set by an environment variable: --trusted-proxies is HOOKGATE_TRUSTED_PROXIES.`;

export { ConfigError } from '../../lib/config.ts';

/** Reads flags and environment; throws ConfigError with one line per bad value. */
export function loadIngressConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): IngressConfig {
  return loadFlags(argv, env, FLAGS, Schema, (raw) => {
    raw.namespace ??= env.POD_NAMESPACE || 'hookgate-system';
    raw.podIp ??= env.POD_IP || undefined;
  });
}
