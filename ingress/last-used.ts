import { API_VERSION, GROUP, type Route, VERSION, WEBHOOK_TRIGGER } from '../api/v1alpha1/index.ts';
import { APPLY_PATCH, apiPath, errorMessage, KubeClient, statusOf } from '../lib/kube.ts';
import type { KubeAccess } from '../lib/kubeconfig.ts';
import type { Logger } from '../lib/log.ts';
import { timestamp } from '../lib/time.ts';

export const FIELD_MANAGER = 'hookgate-ingress';

export interface LastUsedOptions {
  /** Default 10 s. */
  intervalMs?: number;
  /** Writes in flight at once during a flush (default 8). */
  concurrency?: number;
  now?: () => Date;
}

interface Use {
  namespace: string;
  name: string;
  time: Date;
}

/**
 * Records when each trigger was last used and writes `status.lastTriggeredTime` in a batch every
 * interval, one server-side apply per trigger used since the last flush, instead of a write per
 * request. The field manager owns only that field, beside the operator's.
 */
export class LastUsedRecorder {
  private pending = new Map<string, Use>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private readonly api: KubeClient;
  private readonly now: () => Date;

  constructor(
    kc: KubeAccess,
    private readonly log: Logger,
    private readonly opts: LastUsedOptions = {},
  ) {
    this.api = new KubeClient(kc);
    this.now = opts.now ?? (() => new Date());
  }

  recordUse(route: Route): void {
    this.pending.set(`${route.namespace}/${route.name}`, {
      namespace: route.namespace,
      name: route.name,
      time: this.now(),
    });
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

  /** Writes the pending uses; a failed write is kept for the next flush unless a newer use replaced it. */
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

  private async write(key: string, use: Use): Promise<void> {
    const { namespace, name } = use;
    // By name, not uid (the status subresource ignores a uid here): a trigger re-created under the
    // same name keeps its URL, so a use of the URL is a use of it.
    const body = {
      apiVersion: API_VERSION,
      kind: WEBHOOK_TRIGGER.kind,
      metadata: { namespace, name },
      status: { lastTriggeredTime: timestamp(use.time) },
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
        query: { fieldManager: FIELD_MANAGER, force: 'true' },
        contentType: APPLY_PATCH,
        body,
      });
    } catch (err) {
      const code = statusOf(err);
      // Gone or refused for good: a retry would fail the same way.
      if (code === 404 || code === 409 || code === 422) {
        this.log.debug({ trigger: key, err: errorMessage(err) }, 'lastTriggeredTime not written');
        return;
      }
      this.log.warn(
        { trigger: key, err: errorMessage(err) },
        'could not write lastTriggeredTime, will retry',
      );
      if (!this.pending.has(key)) this.pending.set(key, use);
    }
  }
}
