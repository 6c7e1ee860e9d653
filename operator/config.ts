import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { z } from 'zod';

// Flags win over environment variables, which win over defaults. Every flag has an env twin
// (HOOKGATE_ + upper snake case) so the chart can set either.

const DURATION = /^(\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a Go-style duration ("24h", "1h30m", "500ms") into milliseconds. */
export function parseDuration(text: string): number {
  if (!DURATION.test(text)) throw new Error(`invalid duration "${text}" (use e.g. 30s, 15m, 24h)`);
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) ms += Number(n) * UNIT_MS[unit!]!;
  return ms;
}

const duration = z
  .string()
  .regex(DURATION, 'must be a duration such as 30s, 15m or 24h')
  .transform(parseDuration)
  .refine((ms) => ms > 0, 'must be greater than zero');
const port = z
  .string()
  .regex(/^\d{1,5}$/, 'must be a port number (0-65535, 0 = off)')
  .transform(Number)
  .refine((n) => n <= 65535, 'must be a port number (0-65535, 0 = off)');
const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a namespace name (RFC 1123 label)')
  .max(63);
const bool = z.enum(['true', 'false']).transform((v) => v === 'true');

const Schema = z
  .object({
    publicBaseUrl: z
      .url({ protocol: /^https?$/ })
      .transform((u) => u.replace(/\/+$/, ''))
      .describe('required: the externally reachable URL of the ingress'),
    namespaces: z
      .string()
      .default('')
      .transform((s) =>
        s
          .split(',')
          .map((n) => n.trim())
          .filter(Boolean),
      )
      .pipe(z.array(dnsLabel)),
    ingressNamespace: dnsLabel,
    leaderElect: bool.default(true),
    leaseNamespace: dnsLabel,
    leaseName: dnsLabel.default('hookgate-operator-leader'),
    leaseDuration: duration.default(15_000),
    renewDeadline: duration.default(10_000),
    retryPeriod: duration.default(2_000),
    metricsPort: port.default(8080),
    healthPort: port.default(8081),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
    kubeconfig: z.string().min(1).optional(),
    rotationGrace: duration.default(24 * 3_600_000),
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
  --identity ID             this replica's name in the Lease (default: $POD_NAME or hostname)
Every flag can be set by an environment variable: --public-base-url is HOOKGATE_PUBLIC_BASE_URL.`;

export class ConfigError extends Error {}

const envName = (flag: string) => `HOOKGATE_${flag.toUpperCase().replaceAll('-', '_')}`;

/** Reads flags and environment; throws ConfigError with one line per bad value. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): Config {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const ownNamespace = env.POD_NAMESPACE || 'hookgate-system';
  const raw: Record<string, unknown> = {};
  for (const [flag, key] of Object.entries(FLAGS)) raw[key] = values[flag] ?? env[envName(flag)];
  raw.ingressNamespace ??= ownNamespace;
  raw.leaseNamespace ??= ownNamespace;
  raw.logLevel ??= env.LOG_LEVEL;
  raw.kubeconfig ??= undefined;
  raw.identity ??= env.POD_NAME || `${hostname()}-${process.pid}`;
  const parsed = Schema.safeParse(raw);
  if (!parsed.success) {
    const keyToFlag = Object.fromEntries(Object.entries(FLAGS).map(([f, k]) => [k, f]));
    const lines = parsed.error.issues.map((i) => {
      const flag = keyToFlag[String(i.path[0])] ?? String(i.path[0]);
      const missing = i.code === 'invalid_type' && raw[String(i.path[0])] === undefined;
      const message = missing ? 'is required' : i.message;
      return `--${flag} (${envName(flag)}): ${message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return parsed.data;
}
