import { describe, expect, it } from 'vitest';
import type { Condition } from '../../api/v1alpha1/index.ts';
import { StatusPatcher } from './status.ts';

type S = { conditions?: Condition[]; observedGeneration?: number; url?: string };
const ready = { ready: true, reason: 'Succeeded', message: 'Serving' };

function patcher() {
  const writes: Partial<S>[] = [];
  const p = new StatusPatcher<S>('WebhookTrigger', ['conditions', 'observedGeneration', 'url'], {
    api: {
      applyStatus: async (_meta, status) => {
        writes.push(status);
      },
    },
    conditions: { set: () => {}, delete: () => {} },
    events: { record: () => {} },
    log: { warn: () => {} } as never,
  });
  return { p, writes };
}
const obj = (resourceVersion: string, status?: Partial<S>) => ({
  metadata: { namespace: 'ns', name: 't', uid: 'u', generation: 1, resourceVersion },
  status,
});

describe('StatusPatcher', () => {
  it('does not write its own status twice while the cache has not shown the first write', async () => {
    const { p, writes } = patcher();
    const stale = obj('1');
    await p.finish(stale, p.snapshot(stale), ready, { url: 'u1' }, new Date(1000));
    expect(writes).toHaveLength(1);
    // Reconciled again (a child's event) before the watch brought the write: nothing to write.
    await p.finish(stale, p.snapshot(stale), ready, { url: 'u1' }, new Date(2000));
    expect(writes).toHaveLength(1);
    // Something did change: written, keeping the first write's transition time.
    await p.finish(stale, p.snapshot(stale), ready, { url: 'u2' }, new Date(3000));
    expect(writes).toHaveLength(2);
    expect(writes[1]!.conditions![0]!.lastTransitionTime).toBe(writes[0]!.conditions![0]!.lastTransitionTime);
    // The cache caught up with something else (another writer wiped the status): compared with it.
    const wiped = obj('9', {});
    await p.finish(wiped, p.snapshot(wiped), ready, { url: 'u2' }, new Date(4000));
    expect(writes).toHaveLength(3);
  });
});
