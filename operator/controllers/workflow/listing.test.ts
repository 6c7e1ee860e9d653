// The listing of a namespace's Workflows that the run-owners admission policy reads.
import { describe, expect, it } from 'vitest';
import type { Workflow } from '../../../api/v1alpha1/index.ts';
import type { Cached } from '../resources.ts';
import { WorkflowListings, workflowListing } from './listing.ts';

const wf = (name: string, pod: object = {}, meta: object = {}) =>
  ({
    apiVersion: 'hookgate.io/v1alpha1',
    kind: 'Workflow',
    metadata: { namespace: 'ns', name, uid: `uid-${name}`, ...meta },
    spec: {
      jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [], ...pod } } } },
    },
  }) as unknown as Cached<Workflow>;

describe('workflowListing', () => {
  it('lists each live Workflow with its uid, ServiceAccount and token mount, as its runs get them', () => {
    const listing = workflowListing('ns', [
      wf('deploy', { serviceAccountName: 'deployer', automountServiceAccountToken: true }),
      wf('build'),
      wf('legacy', { serviceAccount: 'old-style' }),
      wf('going', {}, { deletionTimestamp: '2026-01-01T00:00:00Z' }),
      { ...wf('broken'), spec: { jobTemplate: 'nonsense' } } as unknown as Cached<Workflow>,
    ]);
    expect(listing).toMatchObject({ apiVersion: 'hookgate.io/v1alpha1', kind: 'WorkflowListing' });
    expect(listing.metadata).toEqual({
      name: 'hookgate-workflows',
      namespace: 'ns',
      labels: { 'app.kubernetes.io/managed-by': 'hookgate' },
    });
    expect(listing.spec.workflows).toEqual({
      build: 'uid=uid-build,serviceAccountName=default,automountServiceAccountToken=false',
      deploy: 'uid=uid-deploy,serviceAccountName=deployer,automountServiceAccountToken=true',
      legacy: 'uid=uid-legacy,serviceAccountName=old-style,automountServiceAccountToken=false',
    });
  });
});

describe('WorkflowListings', () => {
  function setup() {
    const items: Cached<Workflow>[] = [];
    const written: Record<string, string>[] = [];
    let release: (() => void) | undefined;
    const listings = new WorkflowListings({ get: () => undefined, list: () => items }, async (listing) => {
      if (release === undefined) {
        await new Promise<void>((r) => {
          release = r;
        });
      }
      written.push(listing.spec.workflows);
    });
    return { items, written, listings, go: () => release?.() };
  }

  it('writes once per change, one write at a time, the newest last', async () => {
    const s = setup();
    s.items.push(wf('a'));
    const first = s.listings.sync('ns');
    await new Promise((r) => setTimeout(r, 10));
    // The first write is under way (held); what changes now is written after it, never before.
    s.items.push(wf('b'));
    const second = s.listings.sync('ns');
    const third = s.listings.sync('ns');
    await new Promise((r) => setTimeout(r, 10));
    expect(s.written).toEqual([]);
    s.go();
    await Promise.all([first, second, third]);
    expect(s.written.map((d) => Object.keys(d))).toEqual([['a'], ['a', 'b']]);
    await s.listings.sync('ns');
    expect(s.written).toHaveLength(2);
  });

  it('tries again after a failed write', async () => {
    let fail = true;
    const written: string[] = [];
    const listings = new WorkflowListings({ get: () => undefined, list: () => [wf('a')] }, async () => {
      if (fail) throw new Error('HTTP 500');
      written.push('ok');
    });
    await expect(listings.sync('ns')).rejects.toThrow('HTTP 500');
    fail = false;
    await listings.sync('ns');
    expect(written).toEqual(['ok']);
  });
});
