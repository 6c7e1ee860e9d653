import { parseArgs } from 'node:util';
import { z } from 'zod';
import { trustedProxies } from './client-ip.ts';

// Flags win over environment variables, which win over defaults. Every flag has an env twin
// (HOOKGATE_ + upper snake case), as for the operator, so the chart can set either.

const DURATION = /^(\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

// The same Go-style durations as the operator's flags ("30s", "1m30s").
const duration = z
  .string()
  .regex(DURATION, 'must be a duration such as 500ms, 30s or 2m')
  .transform((text) => {
    let ms = 0;
    for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) ms += Number(n) * UNIT_MS[unit!]!;
    return ms;
  })
  .refine((ms) => ms > 0, 'must be greater than zero');
const port = z.coerce.number().int().min(0).max(65535);

const Schema = z.object({
  namespace: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a namespace name (RFC 1123 label)')
    .max(63),
  address: z.string().min(1).default('0.0.0.0'),
  port: port.default(8080),
  metricsPort: port.default(9090),
  trustedProxies: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean),
    )
    .superRefine((cidrs, ctx) => {
      try {
        trustedProxies(cidrs);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    }),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
  kubeconfig: z.string().min(1).optional(),
  requestTimeout: duration.default(30_000),
  keepAliveTimeout: duration.default(72_000),
  shutdownTimeout: duration.default(25_000),
  maxHeaderBytes: z.coerce.number().int().min(1024).max(65_536).default(16_384),
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
Every flag can be set by an environment variable: --trusted-proxies is HOOKGATE_TRUSTED_PROXIES.`;

export class ConfigError extends Error {}

const envName = (flag: string) => `HOOKGATE_${flag.toUpperCase().replaceAll('-', '_')}`;

/** Reads flags and environment; throws ConfigError with one line per bad value. */
export function loadIngressConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): IngressConfig {
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
  const raw: Record<string, unknown> = {};
  for (const [flag, key] of Object.entries(FLAGS)) raw[key] = values[flag] ?? env[envName(flag)];
  raw.namespace ??= env.POD_NAMESPACE || 'hookgate-system';
  raw.logLevel ??= env.LOG_LEVEL;
  const parsed = Schema.safeParse(raw);
  if (!parsed.success) {
    const keyToFlag = Object.fromEntries(Object.entries(FLAGS).map(([f, k]) => [k, f]));
    const lines = parsed.error.issues.map((i) => {
      const flag = keyToFlag[String(i.path[0])] ?? String(i.path[0]);
      return `--${flag} (${envName(flag)}): ${i.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return parsed.data;
}
