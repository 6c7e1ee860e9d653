import { createHash } from 'node:crypto';
import {
  type AnsweredName,
  API_VERSION,
  type Rejection,
  type RejectionOutcome,
  type Route,
  WEBHOOK_TRIGGER,
  type WebhookTriggerStatus,
} from '../api/v1alpha1/index.ts';
import { APPLY_PATCH, errorMessage, KubeClient, statusOf, statusPath } from '../lib/kube.ts';
import type { KubeAccess } from '../lib/kubeconfig.ts';
import type { Logger } from '../lib/log.ts';
import { timestamp } from '../lib/time.ts';

export const FIELD_MANAGER = 'hookgate-ingress';
const MERGE_PATCH = 'application/merge-patch+json';

export interface StatusWriterOptions {
  /** How often pending fields are written (default 10 s). */
  intervalMs?: number;
  /** A trigger's rejections are written at most once per this (default 60 s). */
  rejectionIntervalMs?: number;
  /** Triggers written in one flush for rejections alone (default 100): junk sent to many URLs must not become a storm of writes. */
  maxRejectionWrites?: number;
  /** Writes in flight at once during a flush (default 8). */
  concurrency?: number;
  now?: () => Date;
}

/** The fields of one trigger's status waiting to be written. */
interface Pending {
  namespace: string;
  name: string;
  lastTriggeredTime?: Date;
  rejections: Map<RejectionOutcome, { time: Date; count: number; statusCode: number; reason?: string }>;
}

/** A list entry of a trigger's status, applied under a field manager of its own. */
interface Applied {
  namespace: string;
  name: string;
  manager: string;
  status: Record<string, unknown>;
}

/** The part of a trigger's status the ingress writes, as a JSON merge patch. */
type Fields = Pick<WebhookTriggerStatus, 'lastTriggeredTime' | 'rejections'>;

/**
 * The ingress's writer of trigger status: what it learns from requests (the last use, the latest
 * rejections), kept in memory and written in a batch every interval, one write per trigger at
 * most, never a write per request. Each write is a JSON merge patch of the status subresource:
 * every replica writes only the fields it has news for and removes nothing another replica wrote
 * (a server-side apply by a field manager that all replicas share would drop the fields another
 * replica applied). New fields are one more entry in `Pending` and in `fields()`.
 *
 * Entries of list fields (`handshakes`, `snsSubscriptions`) are the exception: a merge patch
 * replaces a list whole, so each entry is a server-side apply under a field manager of its own (one
 * per handshake, one per topic), which adds or updates that entry and touches nothing else.
 */
export class StatusWriter {
  private pending = new Map<string, Pending>();
  private applies = new Map<string, Applied>();
  /** When each trigger's rejections were last written, for their own interval. */
  private readonly rejectionsWritten = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private readonly api: KubeClient;
  private readonly now: () => Date;

  constructor(
    kc: KubeAccess,
    private readonly log: Logger,
    private readonly opts: StatusWriterOptions = {},
  ) {
    this.api = new KubeClient(kc);
    this.now = opts.now ?? (() => new Date());
  }

  private entry(route: Pick<Route, 'namespace' | 'name'>): Pending {
    const key = `${route.namespace}/${route.name}`;
    let p = this.pending.get(key);
    if (!p) {
      p = { namespace: route.namespace, name: route.name, rejections: new Map() };
      this.pending.set(key, p);
    }
    return p;
  }

  /** A verified delivery was let through: `status.lastTriggeredTime`. */
  recordUse(route: Pick<Route, 'namespace' | 'name'>): void {
    this.entry(route).lastTriggeredTime = this.now();
  }

  /** A delivery was refused: `status.rejections.<outcome>`. `reason` must come from a fixed set. */
  recordRejection(
    route: Pick<Route, 'namespace' | 'name'>,
    outcome: RejectionOutcome,
    statusCode: number,
    reason?: string,
  ): void {
    const r = this.entry(route).rejections;
    const seen = r.get(outcome);
    r.set(outcome, { time: this.now(), count: (seen?.count ?? 0) + 1, statusCode, reason });
  }

  /** A handshake or ping answered: its entry in `handshakes`. */
  recordHandshake(route: Pick<Route, 'namespace' | 'name'>, name: AnsweredName): void {
    const status = { handshakes: [{ name, lastAnsweredTime: timestamp(this.now()) }] };
    this.apply(route, `${FIELD_MANAGER}-handshake-${name}`, status);
  }

  /** An SNS subscription confirmed or ended: its entry in `snsSubscriptions`. */
  recordSns(route: Pick<Route, 'namespace' | 'name'>, sns: { topic: string; state: string }): void {
    const entry = { topicArn: sns.topic, state: sns.state, lastTransitionTime: timestamp(this.now()) };
    const topic = createHash('sha256').update(sns.topic).digest('hex').slice(0, 16);
    this.apply(route, `${FIELD_MANAGER}-sns-${topic}`, { snsSubscriptions: [entry] });
  }

  private apply(
    route: Pick<Route, 'namespace' | 'name'>,
    manager: string,
    status: Record<string, unknown>,
  ): void {
    const { namespace, name } = route;
    this.applies.set(`${manager}\n${namespace}/${name}`, { namespace, name, manager, status });
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.opts.intervalMs ?? 10_000);
    this.timer.unref();
  }

  /** Stops the timer and writes what is pending once more, rejections whatever their interval. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush(true);
  }

  /** Writes what is due; a failed write is kept for the next flush, merged with what came since. */
  flush(all = false): Promise<void> {
    // One flush at a time; a call during one waits for it and then writes what came in meanwhile.
    const run = (this.flushing ?? Promise.resolve()).then(() => this.writeAll(all));
    this.flushing = run;
    const done = () => {
      if (this.flushing === run) this.flushing = undefined;
    };
    void run.then(done, done);
    return run;
  }

  private async writeAll(all: boolean): Promise<void> {
    const now = this.now().getTime();
    const interval = this.opts.rejectionIntervalMs ?? 60_000;
    for (const [key, at] of this.rejectionsWritten)
      if (now - at >= interval) this.rejectionsWritten.delete(key);
    let rejectionWrites = this.opts.maxRejectionWrites ?? 100;
    const batch: [string, Pending][] = [];
    for (const [key, p] of this.pending) {
      const due = p.rejections.size > 0 && (all || !this.rejectionsWritten.has(key));
      const used = p.lastTriggeredTime !== undefined;
      if (!due && !used) continue;
      // Over the cap of writes for rejections alone: the next flush.
      if (due && !used && !all && rejectionWrites-- <= 0) continue;
      batch.push([key, due ? p : { ...p, rejections: new Map() }]);
      if (due) {
        this.rejectionsWritten.set(key, now);
        this.pending.delete(key);
      } else if (p.rejections.size > 0)
        p.lastTriggeredTime = undefined; // its rejections wait for their interval
      else this.pending.delete(key); // nothing left: not kept for every trigger ever used
    }
    const applies = [...this.applies];
    this.applies = new Map();
    const writes = [
      ...batch.map(
        ([key, p]) =>
          () =>
            this.write(key, p),
      ),
      ...applies.map(
        ([key, a]) =>
          () =>
            this.writeApplied(key, a),
      ),
    ];
    const workers = Array.from({ length: Math.min(this.opts.concurrency ?? 8, writes.length) }, async () => {
      for (let next = writes.shift(); next; next = writes.shift()) await next();
    });
    await Promise.all(workers);
  }

  private fields(p: Pending): Fields {
    const rejections = Object.fromEntries(
      [...p.rejections].map(([outcome, r]): [string, Rejection] => [
        outcome,
        {
          lastTime: timestamp(r.time),
          count: r.count,
          statusCode: r.statusCode,
          ...(r.reason ? { reason: r.reason } : {}),
        },
      ]),
    );
    return {
      ...(p.lastTriggeredTime ? { lastTriggeredTime: timestamp(p.lastTriggeredTime) } : {}),
      ...(p.rejections.size > 0 ? { rejections } : {}),
    };
  }

  private async write(key: string, p: Pending): Promise<void> {
    // A merge patch of a status that is gone is a 404, never a create.
    const body = { status: this.fields(p) };
    const query = { fieldManager: FIELD_MANAGER };
    if (!(await this.patch(p, MERGE_PATCH, query, body))) this.restore(key, p);
  }

  private async writeApplied(key: string, a: Applied): Promise<void> {
    const { namespace, name, manager, status } = a;
    const body = {
      apiVersion: API_VERSION,
      kind: WEBHOOK_TRIGGER.kind,
      metadata: { namespace, name },
      status,
    };
    const query = { fieldManager: manager, force: 'true' };
    if (!(await this.patch(a, APPLY_PATCH, query, body)) && !this.applies.has(key)) this.applies.set(key, a);
  }

  /** False when the write failed but may succeed later; gone or refused for good counts as done. */
  private async patch(
    trigger: { namespace: string; name: string },
    contentType: string,
    query: Record<string, string>,
    body: unknown,
  ): Promise<boolean> {
    const { namespace, name } = trigger;
    try {
      // By name, not uid: a trigger re-created under the same name keeps its URL, so a request to
      // the URL is one to it.
      await this.api.request({
        method: 'PATCH',
        path: statusPath(WEBHOOK_TRIGGER.plural, namespace, name),
        query,
        contentType,
        body,
      });
      return true;
    } catch (err) {
      const code = statusOf(err);
      const log = { trigger: `${namespace}/${name}`, manager: query.fieldManager, err: errorMessage(err) };
      // Gone or refused for good: a retry would fail the same way.
      if (code === 404 || code === 409 || code === 422) {
        this.log.debug(log, 'trigger status not written');
        return true;
      }
      this.log.warn(log, 'could not write trigger status, will retry');
      return false;
    }
  }

  /** Puts back what a failed write carried, unless newer values came in meanwhile. */
  private restore(key: string, failed: Pending): void {
    const p = this.entry(failed);
    p.lastTriggeredTime ??= failed.lastTriggeredTime;
    for (const [outcome, r] of failed.rejections) {
      const since = p.rejections.get(outcome);
      p.rejections.set(outcome, since ? { ...since, count: since.count + r.count } : r);
    }
    this.rejectionsWritten.delete(key);
  }
}
