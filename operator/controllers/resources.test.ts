import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { CREDENTIAL_SECRETS, SECRET_METADATA } from './resources.ts';

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
  });

  it('CREDENTIAL_SECRETS leaves out run input and route Secrets, and keeps data only under a WebhookTrigger', () => {
    expect(CREDENTIAL_SECRETS.labelSelector).toBe(
      'app.kubernetes.io/managed-by=hookgate,hookgate.io/trigger,!hookgate.io/delivery,!hookgate.io/workflow,!hookgate.io/route',
    );
    expect(CREDENTIAL_SECRETS.transform!(hostile('WebhookTrigger'))).toEqual({
      metadata: {
        ...identity,
        ownerReferences: [owner('WebhookTrigger')],
        annotations: { 'hookgate.io/rotated-for': 'r1' },
      },
      data: { token: 'dG9r' },
    });
    expect(CREDENTIAL_SECRETS.transform!(hostile('Workflow'))).toEqual({
      metadata: { ...identity, ownerReferences: [owner('Workflow')] },
    });
  });
});
