import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { credentialSecrets, SECRET_METADATA } from './resources.ts';

const owner = (kind: string) => ({
  apiVersion: 'hookgate.io/v1alpha1',
  kind,
  name: 't',
  uid: 'u',
  controller: true,
});
const hostile = (kind: string): V1Secret => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: {
    namespace: 'ns',
    name: 't-credentials',
    uid: 's',
    resourceVersion: '7',
    labels: { 'app.kubernetes.io/managed-by': 'hookgate', 'hookgate.io/trigger': 't', junk: 'x' },
    annotations: {
      'hookgate.io/rotated-for': 'r1',
      'hookgate.io/revoked-for': 'v1',
      'hookgate.io/rotated-at': '2026-12-04T00:00:00Z',
      'hookgate.io/captured-at': '2026-12-04T00:00:01Z',
      'hookgate.io/pad': 'x'.repeat(200 * 1024),
      'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(1000),
    },
    ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'c', uid: 'c' }, owner(kind)],
  },
  data: { token: 'dG9r', blob: 'x'.repeat(1000) },
});
const identity = {
  namespace: 'ns',
  name: 't-credentials',
  uid: 's',
  resourceVersion: '7',
};

describe('Secret caches', () => {
  it('SECRET_METADATA keeps identity and the controller reference only', () => {
    expect(SECRET_METADATA.metadataOnly).toBe(true);
    expect(SECRET_METADATA.transform!(hostile('WebhookTrigger'))).toEqual({
      metadata: { ...identity, ownerReferences: [owner('WebhookTrigger')] },
    });
    expect(SECRET_METADATA.transform!({ metadata: { name: 'n', namespace: 'ns' } })).toEqual({
      metadata: { name: 'n', namespace: 'ns' },
    });
    // A run's input Secret: its Job is no trigger, and nothing reads another kind of controller.
    expect(SECRET_METADATA.transform!(hostile('Job'))).toEqual({ metadata: identity });
  });

  // The live triggers: `t` in `ns` with uid `u`.
  const live = credentialSecrets(({ namespace, name }) =>
    namespace === 'ns' && name === 't' ? 'u' : undefined,
  );

  it('credentialSecrets leaves out run input and route Secrets', () => {
    expect(live.labelSelector).toBe(
      'app.kubernetes.io/managed-by=hookgate,hookgate.io/trigger,!hookgate.io/delivery,!hookgate.io/workflow,!hookgate.io/route',
    );
  });

  // Each one dropped would be read as never written: a revocation dropped is handled (new
  // credentials generated) on every reconcile that reads the cache.
  it('keeps data and the annotations the operator writes only of <trigger>-credentials controlled by that live trigger', () => {
    expect(live.transform!(hostile('WebhookTrigger'))).toEqual({
      metadata: {
        ...identity,
        ownerReferences: [owner('WebhookTrigger')],
        annotations: {
          'hookgate.io/rotated-for': 'r1',
          'hookgate.io/revoked-for': 'v1',
          'hookgate.io/rotated-at': '2026-12-04T00:00:00Z',
          'hookgate.io/captured-at': '2026-12-04T00:00:01Z',
        },
      },
      data: { token: 'dG9r' },
    });
  });

  it.each([
    ['another kind of controller', hostile('Workflow')],
    [
      'a controller uid that is not the live trigger’s (forged, or a deleted trigger’s)',
      {
        ...hostile('WebhookTrigger'),
        metadata: {
          ...hostile('WebhookTrigger').metadata,
          ownerReferences: [{ ...owner('WebhookTrigger'), uid: 'forged' }],
        },
      },
    ],
    [
      'a name other than its trigger’s credentials',
      {
        ...hostile('WebhookTrigger'),
        metadata: { ...hostile('WebhookTrigger').metadata, name: 'other-credentials' },
      },
    ],
    [
      'a trigger not (yet) in the cache',
      { ...hostile('WebhookTrigger'), metadata: { ...hostile('WebhookTrigger').metadata, namespace: 'ns2' } },
    ],
  ] as [string, V1Secret][])('keeps only the identity of a Secret with %s', (_, secret) => {
    const kept = live.transform!(secret) as V1Secret;
    expect(kept.data).toBeUndefined();
    expect(kept.metadata?.annotations).toBeUndefined();
    expect(JSON.stringify(kept).length).toBeLessThan(400);
  });
});
