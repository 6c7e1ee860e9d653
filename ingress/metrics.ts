import { Counter, Histogram, type Registry } from 'prom-client';
import type { HandshakeName } from '../api/v1alpha1/index.ts';

const PREFIX = 'hookgate_ingress_';

/**
 * What a request ended as: the `outcome` label and the `error.code` of error bodies. A fixed set,
 * so the label stays bounded whatever is sent.
 */
export type Outcome =
  | 'accepted'
  | 'duplicate'
  | 'filtered'
  | `handshake_${HandshakeName}`
  | 'handshake_refused'
  | 'ping'
  | 'not_found'
  | 'method_not_allowed'
  | 'suspended'
  | 'rate_limited'
  | 'flooded'
  | 'queue_full'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unauthorized'
  | 'bad_request'
  | 'malformed_body'
  | 'invalid_input'
  | 'run_active'
  | 'api_unavailable'
  | 'trigger_unavailable'
  | 'run_rejected'
  | 'input_schema_unusable'
  | 'run_timeout'
  | 'internal_error';

/** Anything with a namespace and name (a Route). Only known triggers may be labelled. */
export interface TriggerRef {
  namespace: string;
  name: string;
}

/** The `trigger` label: `<namespace>/<name>` of a known route, `unknown` for everything else. */
export const triggerLabel = (route: TriggerRef | undefined) =>
  route ? `${route.namespace}/${route.name}` : 'unknown';

export interface IngressMetrics {
  request(route: TriggerRef | undefined, outcome: Outcome, seconds: number): void;
  /** `reason` must come from a fixed set (the verify module's reasons), never from the request. */
  verificationFailed(route: TriggerRef, reason: string): void;
  rateLimited(route: TriggerRef): void;
  /** A request refused by the per-address flood guard (no labels: the address is not one). */
  floodRejected(): void;
  duplicate(route: TriggerRef): void;
  runStarted(route: TriggerRef): void;
  /** For the launcher: a run it started (or waited on) has finished. */
  runFinished(route: TriggerRef, result: 'Succeeded' | 'Failed', seconds?: number): void;
  /** For the launcher: how long creating the Job (and its input Secret) took. */
  jobCreated(seconds: number): void;
}

// One set of collectors per Registry: the app and the launcher both ask for the metrics of the
// registry they were given and share the collectors (prom-client refuses a second registration).
const byRegistry = new WeakMap<Registry, IngressMetrics>();

export function ingressMetrics(registry: Registry): IngressMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const registers = [registry];
  const requests = new Counter({
    name: `${PREFIX}requests_total`,
    help: 'Webhook requests by trigger and outcome.',
    labelNames: ['trigger', 'outcome'],
    registers,
  });
  const requestDuration = new Histogram({
    name: `${PREFIX}request_duration_seconds`,
    help: 'Time to answer a webhook request, by outcome (wait-mode requests include the run).',
    labelNames: ['outcome'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers,
  });
  const verificationFailures = new Counter({
    name: `${PREFIX}verification_failures_total`,
    help: 'Deliveries rejected by token or signature verification, by reason.',
    labelNames: ['trigger', 'reason'],
    registers,
  });
  const rateLimited = new Counter({
    name: `${PREFIX}rate_limited_total`,
    help: "Verified deliveries refused by the trigger's per-client rate limit.",
    labelNames: ['trigger'],
    registers,
  });
  const floodRejected = new Counter({
    name: `${PREFIX}flood_rejected_total`,
    help: 'Requests refused from their headers by the per-address flood guard (too many unverified requests).',
    registers,
  });
  const duplicates = new Counter({
    name: `${PREFIX}duplicates_total`,
    help: 'Deliveries whose run already existed (nothing new started).',
    labelNames: ['trigger'],
    registers,
  });
  const runsStarted = new Counter({
    name: `${PREFIX}runs_started_total`,
    help: 'Runs (Jobs) started.',
    labelNames: ['trigger'],
    registers,
  });
  const runsFinished = new Counter({
    name: `${PREFIX}runs_finished_total`,
    help: 'Runs seen finishing, by result.',
    labelNames: ['trigger', 'result'],
    registers,
  });
  const runDuration = new Histogram({
    name: `${PREFIX}run_duration_seconds`,
    help: 'Run duration from start to completion, by result.',
    labelNames: ['result'],
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
    registers,
  });
  const jobCreateDuration = new Histogram({
    name: `${PREFIX}job_create_duration_seconds`,
    help: 'Time to create a run (Job and input Secret) in the API server.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });

  const metrics: IngressMetrics = {
    request(route, outcome, seconds) {
      requests.inc({ trigger: triggerLabel(route), outcome });
      requestDuration.observe({ outcome }, seconds);
    },
    verificationFailed: (route, reason) => verificationFailures.inc({ trigger: triggerLabel(route), reason }),
    rateLimited: (route) => rateLimited.inc({ trigger: triggerLabel(route) }),
    floodRejected: () => floodRejected.inc(),
    duplicate: (route) => duplicates.inc({ trigger: triggerLabel(route) }),
    runStarted: (route) => runsStarted.inc({ trigger: triggerLabel(route) }),
    runFinished(route, result, seconds) {
      runsFinished.inc({ trigger: triggerLabel(route), result });
      if (seconds !== undefined) runDuration.observe({ result }, seconds);
    },
    jobCreated: (seconds) => jobCreateDuration.observe(seconds),
  };
  byRegistry.set(registry, metrics);
  return metrics;
}
