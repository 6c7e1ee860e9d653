import { hostname } from 'node:os';
import { z } from 'zod';
import { COMMON_FLAGS, commaList, dnsLabel, duration, FlagSet, port } from '../lib/config.ts';

export { ConfigError, parseDuration } from '../lib/config.ts';

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');
const ownNamespace = (env: NodeJS.ProcessEnv) => env.POD_NAMESPACE || 'hookgate-system';

/** The operator's flags, each said once: the parser, `--help` and docs/flags.md come from here. */
export const FLAGS = new FlagSet(
  'node dist/operator/main.js [flags]   (from a checkout: npx tsx operator/main.ts)',
  {
    'public-base-url': {
      value: 'URL',
      help: 'the externally reachable base URL of the ingress; trigger URLs start with it',
      schema: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, '')),
    },
    namespaces: {
      value: 'a,b',
      help: 'the namespaces whose Workflows and WebhookTriggers to reconcile',
      schema: commaList.pipe(z.array(dnsLabel)),
      default: '',
      defaultText: 'all',
    },
    'ingress-namespace': {
      value: 'NS',
      help: 'where route Secrets are published for the ingress',
      schema: dnsLabel,
      default: ownNamespace,
      defaultText: '$POD_NAMESPACE, else hookgate-system',
    },
    'leader-elect': {
      value: 'BOOL',
      help: 'hold a Lease so that only one replica reconciles',
      schema: bool,
      default: 'true',
    },
    'lease-namespace': {
      value: 'NS',
      help: 'the namespace of the Lease',
      schema: dnsLabel,
      default: ownNamespace,
      defaultText: '$POD_NAMESPACE, else hookgate-system',
    },
    'lease-name': {
      value: 'NAME',
      help: 'the name of the Lease',
      schema: dnsLabel,
      default: 'hookgate-operator-leader',
    },
    'lease-duration': {
      value: 'DURATION',
      help: 'how long other replicas wait, after the leader last renewed, before taking the Lease',
      schema: duration,
      default: '15s',
    },
    'renew-deadline': {
      value: 'DURATION',
      help: 'how long the leader tries to renew before it stops leading (shorter than --lease-duration)',
      schema: duration,
      default: '10s',
    },
    'retry-period': {
      value: 'DURATION',
      help: 'how often replicas try to take or renew the Lease (shorter than --renew-deadline)',
      schema: duration,
      default: '2s',
    },
    'metrics-port': { value: 'N', help: 'the port of /metrics (0: off)', schema: port, default: '8080' },
    'health-port': {
      value: 'N',
      help: 'the port of /healthz and /readyz (0: off)',
      schema: port,
      default: '8081',
    },
    ...COMMON_FLAGS,
    'rotation-grace': {
      value: 'DURATION',
      help: 'how long rotated-out credentials stay valid',
      schema: duration,
      default: '24h',
    },
    'trigger-workers': {
      value: 'N',
      help: 'WebhookTriggers reconciled at once: enough to keep new URLs live within seconds while clients apply in bulk',
      schema: z.coerce.number().int().min(1).max(256),
      default: '32',
    },
    identity: {
      value: 'ID',
      help: "this replica's name in the Lease",
      schema: z.string().min(1),
      default: (env) => env.POD_NAME || `${hostname()}-${process.pid}`,
      defaultText: '$POD_NAME, else the host name and pid',
    },
  },
);

const Schema = FLAGS.schema
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

/** Reads flags and environment; throws ConfigError with one line per bad value. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): Config {
  return FLAGS.parse(argv, env, Schema);
}
