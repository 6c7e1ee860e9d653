import {
  API_VERSION,
  Labels,
  MANAGED_BY,
  WORKFLOW_LISTING,
  WORKFLOW_LISTING_NAME,
  type Workflow,
  type WorkflowListing,
  WorkflowSpec,
  workflowEntry,
} from '../../../api/v1alpha1/index.ts';
import { runIdentity } from '../../../lib/run.ts';
import type { Cache } from '../../runtime/types.ts';
import type { Cached } from '../resources.ts';

/**
 * The namespace's live Workflows, as the chart's run-owners admission policy reads them (its params):
 * a Job the ingress creates must name one of them as its owner, with its uid, ServiceAccount and
 * token mount. Pure.
 */
export function workflowListing(
  namespace: string,
  workflows: readonly Cached<Workflow>[],
): Cached<WorkflowListing> {
  const entries: Record<string, string> = {};
  const byName = [...workflows].sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
  for (const wf of byName) {
    const { name, uid, deletionTimestamp } = wf.metadata;
    const spec = WorkflowSpec.safeParse(wf.spec);
    // A Workflow on its way out, or one no run can be built from, has no runs to admit.
    if (!name || !uid || deletionTimestamp || !spec.success) continue;
    const id = runIdentity(spec.data);
    entries[name] = workflowEntry(uid, id.serviceAccountName, id.automountServiceAccountToken);
  }
  return {
    apiVersion: API_VERSION,
    kind: WORKFLOW_LISTING.kind,
    metadata: { name: WORKFLOW_LISTING_NAME, namespace, labels: { [Labels.managedBy]: MANAGED_BY } },
    spec: { workflows: entries },
  };
}

/**
 * Keeps each namespace's listing current: applied (server-side) when what this process last applied
 * there differs, one write at a time per namespace so that an older listing never lands last. The
 * operator may write no other WorkflowListing (RBAC resourceNames), and never reads this one: on
 * start it applies each namespace's listing once.
 */
export class WorkflowListings {
  private readonly applied = new Map<string, string>();
  private readonly turns = new Map<string, Promise<void>>();

  constructor(
    private readonly workflows: Cache<Cached<Workflow>>,
    private readonly apply: (listing: Cached<WorkflowListing>) => Promise<void>,
  ) {}

  /** Resolves once the namespace's listing, as the cache shows it now or later, is written. */
  sync(namespace: string): Promise<void> {
    const turn = (this.turns.get(namespace) ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.write(namespace));
    this.turns.set(namespace, turn);
    void turn
      .finally(() => {
        if (this.turns.get(namespace) === turn) this.turns.delete(namespace);
      })
      .catch(() => undefined);
    return turn;
  }

  private async write(namespace: string): Promise<void> {
    const listing = workflowListing(namespace, this.workflows.list(namespace));
    const text = JSON.stringify(listing.spec.workflows);
    if (this.applied.get(namespace) === text) return;
    await this.apply(listing);
    this.applied.set(namespace, text);
  }
}
