import { Histogram, type Metric, type Registry } from 'prom-client';
import { OUTCOMES, type Outcome } from '../api/v1alpha1/index.ts';
import { VERIFY_REASONS, type VerifyReason } from './verify/index.ts';

export type { Outcome };

const PREFIX = 'hookgate_ingress_';

/** Anything with a namespace and name (a Route). Only known triggers may be labelled. */
export interface TriggerRef {
  namespace: string;
  name: string;
  /** A Route's auth: which verification failure is the trigger's typical one. */
  auth?: { signature?: unknown };
}

/** The `trigger` label: `<namespace>/<name>` of a known route, `unknown` for everything else. */
export const triggerLabel = (route: TriggerRef | undefined) =>
  route ? `${route.namespace}/${route.name}` : 'unknown';

export interface IngressMetrics {
  request(route: TriggerRef | undefined, outcome: Outcome, seconds: number): void;
  /** `reason` must come from a fixed set (the verify module's reasons), never from the request. */
  verificationFailed(route: TriggerRef, reason: VerifyReason): void;
  rateLimited(route: TriggerRef): void;
  /** A request refused by the per-address flood guard (no labels: the address is not one). */
  floodRejected(): void;
  duplicate(route: TriggerRef): void;
  runStarted(route: TriggerRef): void;
  /** For the launcher: a run it started (or waited on) has finished. */
  runFinished(route: TriggerRef, result: 'Succeeded' | 'Failed', seconds?: number): void;
  /** For the launcher: how long creating the Job (and its input Secret) took. */
  jobCreated(seconds: number): void;
  /** A trigger's route appeared: its counters exist from now on, at zero. */
  addTrigger(route: TriggerRef): void;
  /** Its route went away: its series go too. */
  removeTrigger(route: TriggerRef): void;
}

// One trigger's counters by offset, only those counted (a trigger sees a few outcomes of the 60-odd
// counters), instead of a labelled series object of ~320 bytes each in prom-client: every trigger
// has its counters from the start, and a shard serves 10,000 triggers. A Float64Array of all of
// them was ~700 bytes a trigger with its ArrayBuffer (heap snapshot at 10,000 triggers). Offsets:
const REQUESTS = 0;
const FAILURES = REQUESTS + OUTCOMES.length;
const RATE_LIMITED = FAILURES + VERIFY_REASONS.length;
const DUPLICATES = RATE_LIMITED + 1;
const STARTED = DUPLICATES + 1;
const FINISHED = STARTED + 1; // Succeeded, then Failed
const RESULTS = ['Succeeded', 'Failed'] as const;

const at = <T>(list: readonly T[], item: T) => list.indexOf(item);

/**
 * The series a trigger has from the moment its route exists, each a counter of a different name:
 * accepted requests, its typical verification failure, rate-limited, duplicates, runs started and
 * finished by result. Everything else appears when first counted. One list per typical failure,
 * shared by every trigger.
 */
const zeroesOf = (typical: VerifyReason): readonly number[] => [
  REQUESTS + at(OUTCOMES, 'accepted'),
  FAILURES + at(VERIFY_REASONS, typical),
  RATE_LIMITED,
  DUPLICATES,
  STARTED,
  FINISHED,
  FINISHED + 1,
];
const ZEROES = { signature: zeroesOf('invalid_signature'), token: zeroesOf('invalid_token') };
const zeroSeries = (route: TriggerRef) => (route.auth?.signature ? ZEROES.signature : ZEROES.token);

interface Series {
  label: string;
  counts: Map<number, number>;
  zeroes: readonly number[];
}

type Sample = { labels: Record<string, string>; value: number };

/** A counter whose samples are read at scrape time, for prom-client's Registry. */
function counter(name: string, help: string, samples: () => Sample[]): Metric {
  const read = { name, help, type: 'counter', aggregator: 'sum' };
  return { ...read, get: async () => ({ ...read, values: samples() }), reset() {} } as unknown as Metric;
}

/** A counter family over every trigger's array: one series per trigger and entry, when counted or zeroed. */
function perTrigger(
  triggers: Map<string, Series>,
  entries: readonly { offset: number; labels: Record<string, string> }[],
) {
  return () => {
    const samples: Sample[] = [];
    for (const s of triggers.values())
      for (const e of entries) {
        const value = s.counts.get(e.offset) ?? 0;
        if (value > 0 || s.zeroes.includes(e.offset))
          samples.push({ labels: { trigger: s.label, ...e.labels }, value });
      }
    return samples;
  };
}

// One set of collectors per Registry: the app and the launcher both ask for the metrics of the
// registry they were given and share the collectors (prom-client refuses a second registration).
const byRegistry = new WeakMap<Registry, IngressMetrics>();

export function ingressMetrics(registry: Registry): IngressMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const registers = [registry];
  const triggers = new Map<string, Series>();
  // A route object is never edited (routes-store.ts), so its series can be remembered; one that
  // outlives its trigger (a request in flight) keeps counting into series nobody exports any more.
  const ofRoute = new WeakMap<TriggerRef, Series>();
  const seriesOf = (route: TriggerRef | undefined): Series => {
    const cached = route && ofRoute.get(route);
    if (cached) return cached;
    const label = triggerLabel(route);
    let s = triggers.get(label);
    if (!s) {
      s = { label, counts: new Map(), zeroes: [] };
      triggers.set(label, s);
    }
    if (route) ofRoute.set(route, s);
    return s;
  };
  const count = (route: TriggerRef | undefined, offset: number) => {
    const { counts } = seriesOf(route);
    counts.set(offset, (counts.get(offset) ?? 0) + 1);
  };
  const add = (offset: number) => (route: TriggerRef | undefined) => count(route, offset);

  const families: [string, string, { offset: number; labels: Record<string, string> }[]][] = [
    [
      'requests_total',
      'Webhook requests by trigger and outcome.',
      OUTCOMES.map((outcome, i) => ({ offset: REQUESTS + i, labels: { outcome } })),
    ],
    [
      'verification_failures_total',
      'Deliveries rejected by token or signature verification, by reason.',
      VERIFY_REASONS.map((reason, i) => ({ offset: FAILURES + i, labels: { reason } })),
    ],
    [
      'rate_limited_total',
      "Verified deliveries refused by the trigger's per-client rate limit.",
      [{ offset: RATE_LIMITED, labels: {} }],
    ],
    [
      'duplicates_total',
      'Deliveries whose run already existed (nothing new started).',
      [{ offset: DUPLICATES, labels: {} }],
    ],
    ['runs_started_total', 'Runs (Jobs) started.', [{ offset: STARTED, labels: {} }]],
    [
      'runs_finished_total',
      'Runs seen finishing, by result.',
      RESULTS.map((result, i) => ({ offset: FINISHED + i, labels: { result } })),
    ],
  ];
  for (const [name, help, entries] of families)
    registry.registerMetric(counter(`${PREFIX}${name}`, help, perTrigger(triggers, entries)));
  let flooded = 0;
  registry.registerMetric(
    counter(
      `${PREFIX}flood_rejected_total`,
      'Requests refused from their headers by the per-address flood guard (too many unverified requests).',
      () => [{ labels: {}, value: flooded }],
    ),
  );

  const requestDuration = new Histogram({
    name: `${PREFIX}request_duration_seconds`,
    help: 'Time to answer a webhook request, by outcome (wait-mode requests include the run).',
    labelNames: ['outcome'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
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
      count(route, REQUESTS + at(OUTCOMES, outcome));
      requestDuration.observe({ outcome }, seconds);
    },
    verificationFailed: (route, reason) => {
      count(route, FAILURES + at(VERIFY_REASONS, reason));
    },
    rateLimited: add(RATE_LIMITED),
    floodRejected: () => {
      flooded += 1;
    },
    duplicate: add(DUPLICATES),
    runStarted: add(STARTED),
    runFinished(route, result, seconds) {
      count(route, FINISHED + at(RESULTS, result));
      if (seconds !== undefined) runDuration.observe({ result }, seconds);
    },
    jobCreated: (seconds) => jobCreateDuration.observe(seconds),
    addTrigger(route) {
      const s = seriesOf(route);
      s.zeroes = zeroSeries(route);
    },
    removeTrigger(route) {
      triggers.delete(triggerLabel(route));
    },
  };
  byRegistry.set(registry, metrics);
  return metrics;
}
