import { describe, expect, it } from 'vitest';
import { ownChanged } from '../../runtime/predicates.ts';
import { triggersForSecret, workflowChanged } from './index.ts';

const trigger = (
  over: { generation?: number; annotations?: Record<string, string>; status?: object } = {},
) => ({
  metadata: { name: 't', generation: over.generation ?? 1, annotations: over.annotations ?? { a: '1' } },
  status: over.status ?? { observedGeneration: 1 },
});
const ready = (status: string, reason: string, message = '') => ({ type: 'Ready', status, reason, message });
const workflow = (over: { generation?: number; conditions?: object[]; recentRuns?: object[] } = {}) => ({
  metadata: { name: 'w', generation: over.generation ?? 1 },
  status: { conditions: over.conditions ?? [ready('True', 'Succeeded')], recentRuns: over.recentRuns ?? [] },
});

describe('what a trigger reconcile is for', () => {
  it('its own spec, annotations (a rotation) or deletion; not its status', () => {
    expect(ownChanged(trigger(), trigger({ status: { lastTriggeredTime: 'now' } }))).toBe(false);
    expect(ownChanged(trigger(), trigger({ generation: 2 }))).toBe(true);
    expect(ownChanged(trigger(), trigger({ annotations: { a: '1', rotate: 'x' } }))).toBe(true);
    const deleting = trigger();
    (deleting.metadata as { deletionTimestamp?: string }).deletionTimestamp = 'now';
    expect(ownChanged(trigger(), deleting)).toBe(true);
  });

  it("its Workflow's spec or readiness; not its run history", () => {
    expect(workflowChanged(workflow(), workflow({ recentRuns: [{ name: 'r' }] }))).toBe(false);
    expect(workflowChanged(workflow(), workflow({ generation: 2 }))).toBe(true);
    const recreated = workflow();
    Object.assign(recreated.metadata, { uid: 'u2' });
    expect(workflowChanged(workflow(), recreated)).toBe(true);
    expect(
      workflowChanged(workflow(), workflow({ conditions: [ready('False', 'InvalidJobTemplate')] })),
    ).toBe(true);
    expect(
      workflowChanged(
        workflow({ conditions: [ready('False', 'InvalidJobTemplate', 'a')] }),
        workflow({ conditions: [ready('False', 'InvalidJobTemplate', 'b')] }),
      ),
    ).toBe(true);
  });
});

describe('triggers for a Secret', () => {
  it('every reference a trigger can make: bearer, signature, Basic, URL token, body secret, verify token', () => {
    const triggers = new Map<string, object>();
    const put = (name: string, spec: object) =>
      triggers.set(name, {
        metadata: { namespace: 'ns', name },
        spec: { workflowRef: { name: 'w' }, ...spec },
      });
    const ref = (name: string) => ({ secretRef: { name, key: 'k' } });
    put('bearer', { auth: { bearer: ref('s-bearer') } });
    put('basic', { auth: { basic: { secretRef: { name: 's-basic' } } } });
    put('url', { auth: { urlToken: ref('s-url') } });
    put('body', { auth: { bodySecret: { field: 'x', ...ref('s-body') } } });
    put('meta', {
      auth: { bearer: {} },
      handshakes: [{ name: 'meta-verify-token', verifyToken: ref('s-verify') }],
    });
    const cache = {
      get: ({ name }: { name: string }) => triggers.get(name),
      list: () => [...triggers.values()],
    } as unknown as Parameters<typeof triggersForSecret>[0];
    const owners = (secret: string) =>
      triggersForSecret(cache, { metadata: { namespace: 'ns', name: secret } }).map((k) => k.name);
    expect(owners('s-bearer')).toEqual(['bearer']);
    expect(owners('s-basic')).toEqual(['basic']);
    expect(owners('s-url')).toEqual(['url']);
    expect(owners('s-body')).toEqual(['body']);
    expect(owners('s-verify')).toEqual(['meta']);
    expect(owners('unrelated')).toEqual([]);
  });
});
