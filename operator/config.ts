import { hostname } from 'node:os';
import { z } from 'zod';
import { commaList, dnsLabel, duration, loadFlags, logLevel, port } from '../lib/config.ts';

export { ConfigError, parseDuration } from '../lib/config.ts';

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');

const Schema = z
  .object({
    publicBaseUrl: z
      .url({ protocol: /^https?$/ })
      .transform((u) => u.replace(/\/+$/, ''))
      .describe('required: the externally reachable URL of the ingress'),
    namespaces: commaList.pipe(z.array(dnsLabel)),
    ingressNamespace: dnsLabel,
    leaderElect: bool.default(true),
    leaseNamespace: dnsLabel,
    leaseName: dnsLabel.default('hookgate-operator-leader'),
    leaseDuration: duration.default(15_000),
    renewDeadline: duration.default(10_000),
    retryPeriod: duration.default(2_000),
    metricsPort: port.default(8080),
    healthPort: port.default(8081),
    logLevel,
    kubeconfig: z.string().min(1).optional(),
    rotationGrace: duration.default(24 * 3_600_000),
    triggerWorkers: z.coerce.number().int().min(1).max(256).default(32),
    identity: z.string().min(1),
  })
  .refine((c) => c.renewDeadline < c.leaseDuration, {
    message: 'must be shorter than --lease-duration',
    path: ['renewDeadline'],
  })
  .refine((c) => c.retryPeriod < c.renewDeadline, {
    message: 'must be shorter than --renew-deadline',
    path: ['retryPeriod'],
  });

/** The operator's configuration. Durations are in milliseconds. */
export type Config = z.output<typeof Schema>;

const FLAGS = {
  'public-base-url': 'publicBaseUrl',
  namespaces: 'namespaces',
  'ingress-namespace': 'ingressNamespace',
  'leader-elect': 'leaderElect',
  'lease-namespace': 'leaseNamespace',
  'lease-name': 'leaseName',
  'lease-duration': 'leaseDuration',
  'renew-deadline': 'renewDeadline',
  'retry-period': 'retryPeriod',
  'metrics-port': 'metricsPort',
  'health-port': 'healthPort',
  'log-level': 'logLevel',
  kubeconfig: 'kubeconfig',
  'rotation-grace': 'rotationGrace',
  'trigger-workers': 'triggerWorkers',
  identity: 'identity',
} as const;

export const USAGE = `Usage: hookgate operator [flags]
  --public-base-url URL     externally reachable base URL of the ingress (required)
  --namespaces a,b          namespaces to watch (default: all)
  --ingress-namespace NS    where route Secrets are published (default: $POD_NAMESPACE or hookgate-system)
  --leader-elect BOOL       use a Lease so only one replica reconciles (default true)
  --lease-namespace NS      namespace of the Lease (default: as --ingress-namespace)
  --lease-name NAME         (default hookgate-operator-leader)
  --lease-duration D        (default 15s)  --renew-deadline D (default 10s)  --retry-period D (default 2s)
  --metrics-port N          /metrics (default 8080; 0 = off)
  --health-port N           /healthz and /readyz (default 8081; 0 = off)
  --log-level LEVEL         trace|debug|info|warn|error|fatal (default info)
  --kubeconfig PATH         (default: in-cluster, else $KUBECONFIG or ~/.kube/config)
  --rotation-grace D        how long rotated credentials stay valid (default 24h)
  --trigger-workers N       WebhookTriggers reconciled at once (default 32)
  --identity ID             this replica's name in the Lease (default: $POD_NAME or hostname)
Every flag can be set by an environment variable: --public-base-url is HOOKGATE_PUBLIC_BASE_URL.`;

/** Reads flags and environment; throws ConfigError with one line per bad value. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): Config {
  return loadFlags(argv, env, FLAGS, Schema, (raw) => {
    const ownNamespace = env.POD_NAMESPACE || 'hookgate-system';
    raw.ingressNamespace ??= ownNamespace;
    raw.leaseNamespace ??= ownNamespace;
    raw.identity ??= env.POD_NAME || `${hostname()}-${process.pid}`;
  });
}
