import {
  API_VERSION,
  CONFIGURATION_OUTCOMES,
  type RejectionOutcome,
  type Route,
  WEBHOOK_TRIGGER,
} from '../api/v1alpha1/index.ts';
import type { EventRecorder } from '../lib/events.ts';
import type { StatusWriter } from './status-writer.ts';

export interface RejectionOptions {
  /** One Event per trigger and outcome at most this often (default 10 minutes). */
  eventIntervalMs?: number;
  /** Events per minute from this replica at most, over all triggers (default 30). */
  eventsPerMinute?: number;
  now?: () => number;
}

/** The Event reason and what it says, per configuration-caused outcome: our words only. */
const EVENTS: Partial<Record<RejectionOutcome, { reason: string; note: (route: Route) => string }>> = {
  trigger_unavailable: {
    reason: 'TriggerUnavailable',
    note: (r) =>
      `answered 503 trigger_unavailable: ${r.unavailable?.message ?? 'the trigger cannot start runs'}`,
  },
  run_rejected: {
    reason: 'RunRejected',
    note: () =>
      "answered 503 run_rejected: the API server refused the run's Job or input Secret (an admission policy, a quota, a changed template; the ingress log has its message)",
  },
  input_schema_unusable: {
    reason: 'InputSchemaUnusable',
    note: () =>
      "answered 503 input_schema_unusable: the Workflow's inputSchema cannot be compiled by the ingress",
  },
  invalid_input: {
    reason: 'InvalidInput',
    note: () => "answered 422 invalid_input: the delivery's input does not match the Workflow's inputSchema",
  },
};

/**
 * Where a refused delivery is told to the trigger's owner: every rejection in the trigger's status
 * (batched by the StatusWriter), and those a fix of the trigger or its Workflow ends (not a bad
 * signature from the internet) also as a Warning Event on the trigger, at a bounded rate: the first
 * at once, then at most one per trigger and outcome per interval, counting what it skipped, and
 * at most `eventsPerMinute` in all.
 */
export class RejectionReporter {
  private readonly last = new Map<string, { at: number; skipped: number }>();
  private window = { start: 0, events: 0 };
  private readonly now: () => number;

  constructor(
    private readonly status: Pick<StatusWriter, 'recordRejection'>,
    private readonly events?: EventRecorder,
    private readonly opts: RejectionOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  record(route: Route, outcome: RejectionOutcome, statusCode: number, reason?: string): void {
    this.status.recordRejection(route, outcome, statusCode, reason);
    const event = EVENTS[outcome];
    if (!event || !this.events || !CONFIGURATION_OUTCOMES.includes(outcome)) return;
    const now = this.now();
    const key = `${route.namespace}/${route.name}/${outcome}`;
    const last = this.last.get(key);
    if (last && now - last.at < (this.opts.eventIntervalMs ?? 600_000)) {
      last.skipped++;
      return;
    }
    if (now - this.window.start >= 60_000) this.window = { start: now, events: 0 };
    if (this.window.events >= (this.opts.eventsPerMinute ?? 30)) return;
    this.window.events++;
    const skipped = last?.skipped ?? 0;
    this.last.set(key, { at: now, skipped: 0 });
    this.prune(now);
    const more = skipped > 0 ? ` (and ${skipped} more since the last Event)` : '';
    const regarding = {
      apiVersion: API_VERSION,
      kind: WEBHOOK_TRIGGER.kind,
      metadata: { namespace: route.namespace, name: route.name, uid: route.uid },
    };
    this.events.record(
      regarding,
      'Warning',
      event.reason,
      `A delivery was ${event.note(route)}${more}.`,
      'Deliver',
    );
  }

  /** Forgets keys whose interval is over, so the map holds only recent ones. */
  private prune(now: number): void {
    if (this.last.size < 1024) return;
    const interval = this.opts.eventIntervalMs ?? 600_000;
    for (const [k, v] of this.last) if (now - v.at >= interval) this.last.delete(k);
  }
}
