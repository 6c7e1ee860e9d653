import { type AnsweredName, API_VERSION, GROUP, VERSION, WEBHOOK_TRIGGER } from '../api/v1alpha1/index.ts';
import { APPLY_PATCH, apiPath, errorMessage, KubeClient, statusOf } from '../lib/kube.ts';
import type { KubeAccess } from '../lib/kubeconfig.ts';
import type { Logger } from '../lib/log.ts';
import { timestamp } from '../lib/time.ts';

export const FIELD_MANAGER = 'hookgate-ingress';

export interface StatusWriterOptions {
  /** Default 10 s. */
  intervalMs?: number;
  /** Writes in flight at once during a flush (default 8). */
  concurrency?: number;
  now?: () => Date;
}

/** A known trigger (a Route). */
interface TriggerRef {
  namespace: string;
  name: string;
}

interface Write extends TriggerRef {
  manager: string;
  status: Record<string, unknown>;
}

/**
 * The status fields the ingress writes (`webhooktriggers/status`, server-side apply), in a batch
 * every interval: one apply per trigger and field group changed since the last flush, instead of a
 * write per request, the latest value of each winning. Each group has a field manager of its own,
 * so that an apply, which removes what its manager set before and left out, never touches another
 * group's fields (nor the operator's), whichever replica writes it. To add a field: a method that
 * records it under a manager of its own, and the field in the API's WebhookTriggerStatus.
 */
export class StatusWriter {
  private pending = new Map<string, Write>();
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

  /** A verified delivery: `lastTriggeredTime`. */
  recordUse(trigger: TriggerRef): void {
    this.record(trigger, FIELD_MANAGER, { lastTriggeredTime: timestamp(this.now()) });
  }

  /** A handshake or ping answered: its entry in `handshakes` (a manager per name, so entries add up). */
  recordHandshake(trigger: TriggerRef, name: AnsweredName): void {
    const status = { handshakes: [{ name, lastAnsweredTime: timestamp(this.now()) }] };
    this.record(trigger, `${FIELD_MANAGER}-handshake-${name}`, status);
  }

  /** Sets `status` (fields of one group, under `manager`) at the next flush. */
  record(trigger: TriggerRef, manager: string, status: Record<string, unknown>): void {
    const { namespace, name } = trigger;
    this.pending.set(`${manager}\n${namespace}/${name}`, { namespace, name, manager, status });
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.opts.intervalMs ?? 10_000);
    this.timer.unref();
  }

  /** Stops the timer and writes what is pending once more. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** Writes what is pending; a failed write is kept for the next flush unless a newer one replaced it. */
  flush(): Promise<void> {
    // One flush at a time; a call during one waits for it and then writes what came in meanwhile.
    const run = (this.flushing ?? Promise.resolve()).then(() => this.writeAll());
    this.flushing = run;
    const done = () => {
      if (this.flushing === run) this.flushing = undefined;
    };
    void run.then(done, done);
    return run;
  }

  private async writeAll(): Promise<void> {
    const batch = [...this.pending.entries()];
    this.pending = new Map();
    const workers = Array.from({ length: Math.min(this.opts.concurrency ?? 8, batch.length) }, async () => {
      for (let next = batch.shift(); next; next = batch.shift()) await this.write(...next);
    });
    await Promise.all(workers);
  }

  private async write(key: string, write: Write): Promise<void> {
    const { namespace, name, manager } = write;
    // By name, not uid (the status subresource ignores a uid here): a trigger re-created under the
    // same name keeps its URL, so a use of the URL is a use of it.
    const body = {
      apiVersion: API_VERSION,
      kind: WEBHOOK_TRIGGER.kind,
      metadata: { namespace, name },
      status: write.status,
    };
    try {
      await this.api.request({
        method: 'PATCH',
        path: apiPath({
          group: GROUP,
          version: VERSION,
          plural: WEBHOOK_TRIGGER.plural,
          namespace,
          name,
          subresource: 'status',
        }),
        query: { fieldManager: manager, force: 'true' },
        contentType: APPLY_PATCH,
        body,
      });
    } catch (err) {
      const code = statusOf(err);
      // Gone or refused for good: a retry would fail the same way.
      const trigger = `${namespace}/${name}`;
      if (code === 404 || code === 409 || code === 422) {
        this.log.debug({ trigger, manager, err: errorMessage(err) }, 'status not written');
        return;
      }
      this.log.warn({ trigger, manager, err: errorMessage(err) }, 'could not write status, will retry');
      if (!this.pending.has(key)) this.pending.set(key, write);
    }
  }
}
