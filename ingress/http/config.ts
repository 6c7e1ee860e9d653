import { z } from 'zod';
import { COMMON_FLAGS, commaList, dnsLabel, duration, FlagSet, port } from '../../lib/config.ts';
import { DEFAULT_FLOOD_LIMIT } from '../flood-guard.ts';
import { trustedProxies } from './client-ip.ts';

export { ConfigError } from '../../lib/config.ts';

/** The ingress's flags, each said once: the parser, `--help` and docs/flags.md come from here. */
export const FLAGS = new FlagSet(
  'node dist/ingress/server.js [flags]   (from a checkout: npx tsx ingress/server.ts)',
  {
    namespace: {
      value: 'NS',
      help: 'where the operator publishes route Secrets',
      schema: dnsLabel,
      default: (env) => env.POD_NAMESPACE || 'hookgate-system',
      defaultText: '$POD_NAMESPACE, else hookgate-system',
    },
    address: {
      value: 'ADDR',
      help: 'the listen address of both ports',
      schema: z.string().min(1),
      default: '0.0.0.0',
    },
    port: { value: 'N', help: 'webhooks, /healthz and /readyz', schema: port, default: '8080' },
    'metrics-port': { value: 'N', help: 'the port of /metrics (0: off)', schema: port, default: '9090' },
    'trusted-proxies': {
      value: 'a,b',
      help: 'CIDRs of proxies whose X-Forwarded-For names the client',
      schema: commaList.superRefine((cidrs, ctx) => {
        try {
          trustedProxies(cidrs);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
        }
      }),
      default: '',
      defaultText: 'none',
    },
    ...COMMON_FLAGS,
    'request-timeout': {
      value: 'DURATION',
      help: 'the time a client has to send a whole request',
      schema: duration,
      default: '30s',
    },
    'keep-alive-timeout': {
      value: 'DURATION',
      help: 'idle keep-alive connections are closed after this',
      schema: duration,
      default: '72s',
    },
    'shutdown-timeout': {
      value: 'DURATION',
      help: 'on SIGTERM, how long in-flight requests may take to finish',
      schema: duration,
      default: '25s',
    },
    'max-header-bytes': {
      value: 'N',
      help: 'the cap on the size of request headers',
      schema: z.coerce.number().int().min(1024).max(65_536),
      default: '16384',
    },
    'peers-service': {
      value: 'NAME',
      help: "the ingress's Service: its ready endpoints are the replicas that share each trigger's rate limit (unset: this replica enforces all of it)",
      schema: z.string().min(1).max(63).optional(),
    },
    'pod-ip': {
      value: 'ADDR',
      help: "this replica's address among those endpoints",
      schema: z.string().min(1).optional(),
      default: (env) => env.POD_IP || undefined,
      defaultText: '$POD_IP',
    },
    'flood-limit': {
      value: 'N',
      help: 'unverified requests a client address may send per --flood-period before all its requests are refused (429) from their headers',
      schema: z.coerce.number().int().min(1).max(1_000_000),
      default: String(DEFAULT_FLOOD_LIMIT.requests),
    },
    'flood-period': {
      value: 'DURATION',
      help: "the flood guard's window",
      schema: duration.refine((ms) => ms >= 1000 && ms <= 3_600_000, 'between 1s and 1h'),
      default: `${DEFAULT_FLOOD_LIMIT.periodSeconds / 60}m`,
    },
  },
);

/** The ingress's configuration. Durations are in milliseconds. */
export type IngressConfig = z.output<typeof FLAGS.schema>;

/** Reads flags and environment; throws ConfigError with one line per bad value. */
export function loadIngressConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): IngressConfig {
  return FLAGS.parse(argv, env);
}
