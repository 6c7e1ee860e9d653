import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { z } from 'zod';
import { type Route, RouteSchema, routePath } from '../../api/v1alpha1/index.ts';
import { runName } from '../../lib/run.ts';
import { type AppDeps, buildApp } from '../app.ts';
import { ALREADY_CAPTURED, type SecretCaptures } from '../handshakes/capture.ts';
import {
  type Delivery,
  type Launcher,
  type LaunchResult,
  type RouteTable,
  RunActiveError,
  type RunOutcome,
} from '../types.ts';

// In-memory stand-ins for the ingress's dependencies, for tests of the HTTP layer. They implement
// the interfaces in ../types.ts; nothing here mocks a Kubernetes client.

export const TOKEN = 'hgt_test-token-0123456789abcdefghijklmnopqrstuv';
export const SECRET = 'whsec_dGVzdC1zaWduaW5nLXNlY3JldC0wMTIzNDU2Nzg5YWI=';

type RouteFields = z.input<typeof RouteSchema>;
type RouteInput = Omit<Partial<RouteFields>, 'workflow'> & {
  workflow?: { name?: string; uid?: string; spec?: Partial<RouteFields['workflow']['spec']> };
};

/** A valid Route (through the API's own schema, so defaults apply): bearer token, no signature. */
export function testRoute(overrides: RouteInput = {}): Route {
  const namespace = overrides.namespace ?? 'team-a';
  const name = overrides.name ?? 'deploy';
  const { workflow, ...rest } = overrides;
  return RouteSchema.parse({
    namespace,
    name,
    uid: `uid-${namespace}-${name}`,
    generation: 1,
    path: routePath(namespace, name),
    suspended: false,
    auth: { tokens: [{ value: TOKEN }] },
    rateLimit: { requests: 30, periodSeconds: 60 },
    maxBodyBytes: 1_048_576,
    input: {},
    response: {},
    ...rest,
    workflow: {
      name: 'build',
      uid: `wf-${namespace}-build`,
      ...workflow,
      spec: { jobTemplate: { spec: { template: {} } }, ...workflow?.spec },
    },
  });
}

export class MemoryRoutes implements RouteTable {
  private readonly byPath = new Map<string, Route>();

  constructor(
    routes: Route[] = [],
    public ready = true,
  ) {
    for (const r of routes) this.set(r);
  }

  set(route: Route) {
    this.byPath.set(route.path, route);
  }

  match(path: string): Route | undefined {
    return this.byPath.get(path);
  }
}

interface MemoryRun {
  delivery: Delivery;
  outcome?: RunOutcome;
  waiters: ((o: RunOutcome | undefined) => void)[];
}

/**
 * Runs live in a map keyed by the real Job name (lib/run.ts runName of the delivery's key), so a
 * repeated delivery is a duplicate; with `matchSenderId`, so is one whose sender id a run of the
 * trigger already has. `Forbid` workflows refuse a second active run.
 */
export class MemoryLauncher implements Launcher {
  readonly runs = new Map<string, MemoryRun>();
  /** Thrown by the next launch (and then cleared). */
  failNext?: Error;
  /** Finish every run as soon as it is launched with this outcome (wait-mode tests). */
  autoFinish?: Omit<RunOutcome, 'run'>;

  async launch(delivery: Delivery): Promise<LaunchResult> {
    const error = this.failNext;
    this.failNext = undefined;
    if (error) throw error;
    const { route } = delivery;
    const run = runName(route.namespace, route.name, delivery.key ?? delivery.deliveryId);
    if (this.runs.has(run)) return { run, duplicate: true };
    if (delivery.matchSenderId) {
      for (const [name, r] of this.runs) {
        const d = r.delivery;
        if (d.route.uid === route.uid && d.deliveryId === delivery.deliveryId)
          return { run: name, duplicate: true };
      }
    }
    if (route.workflow.spec.concurrencyPolicy === 'Forbid') {
      for (const [name, r] of this.runs) {
        if (!r.outcome && r.delivery.route.workflow.uid === route.workflow.uid)
          throw new RunActiveError(name);
      }
    }
    this.runs.set(run, { delivery, waiters: [] });
    if (this.autoFinish) this.finish(run, this.autoFinish);
    return { run, duplicate: false };
  }

  finish(run: string, outcome: Omit<RunOutcome, 'run'>) {
    const r = this.runs.get(run);
    if (!r) throw new Error(`no run ${run}`);
    r.outcome = { run, ...outcome };
    for (const w of r.waiters.splice(0)) w(r.outcome);
  }

  async wait(
    _route: Route,
    run: string,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<RunOutcome | undefined> {
    const r = this.runs.get(run);
    if (!r) throw new Error(`no run ${run}`);
    if (r.outcome) return r.outcome;
    return new Promise((resolve) => {
      const done = (o: RunOutcome | undefined) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', abort);
        r.waiters.splice(r.waiters.indexOf(done), 1);
        resolve(o);
      };
      const abort = () => done(undefined);
      const timer = setTimeout(abort, timeoutMs);
      signal?.addEventListener('abort', abort);
      r.waiters.push(done);
    });
  }

  /** Waiters still held, over all runs. */
  get waiting(): number {
    let n = 0;
    for (const r of this.runs.values()) n += r.waiters.length;
    return n;
  }

  get deliveries(): Delivery[] {
    return [...this.runs.values()].map((r) => r.delivery);
  }
}

/** Captures as the ingress stores them, refusing a second one per trigger as the API server does. */
export class MemoryCaptures implements SecretCaptures {
  readonly captured = new Map<string, string>();
  /** Thrown by the next capture (and then cleared). */
  failNext?: Error;

  async capture(route: Route, value: string): Promise<void> {
    const error = this.failNext;
    this.failNext = undefined;
    if (error) throw error;
    const key = `${route.namespace}/${route.name}`;
    if (this.captured.has(key)) throw ALREADY_CAPTURED();
    this.captured.set(key, value);
  }
}

/** Reads one sample of a metric, undefined when the series does not exist. */
export async function sample(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const found = (metric?.values as { labels: Record<string, unknown>; value: number }[] | undefined)?.find(
    (v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val),
  );
  return found?.value;
}

/**
 * The ingress app over `routes`, with in-memory dependencies and everything it did kept for
 * assertions: runs, uses and handshakes recorded, captures, log lines (parsed and as written).
 */
export function testApp(routes: Route[], deps: Partial<AppDeps> = {}, now = { ms: Date.now() }) {
  const launcher = new MemoryLauncher();
  const captures = new MemoryCaptures();
  const registry = new Registry();
  const used: Route[] = [];
  const handshakes: string[] = [];
  const logText: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => logText.push(line) });
  const app = buildApp({
    routes: new MemoryRoutes(routes),
    launcher,
    registry,
    logger,
    captures,
    clock: () => now.ms,
    recordUse: (r) => used.push(r),
    recordHandshake: (r, name) => handshakes.push(`${r.namespace}/${r.name} ${name}`),
    ...deps,
  });
  return { app, launcher, captures, registry, used, handshakes, logText, now };
}
