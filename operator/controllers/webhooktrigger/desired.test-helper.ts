import { WebhookTriggerSpec, WorkflowSpec } from '../../../api/v1alpha1/index.ts';
import type { Generators, RouteInput } from './desired.ts';

// The inputs the tests of desired.ts build their cases from.

export const now = new Date('2026-03-01T12:00:00Z');

/** A trigger's spec, parsed, bound to the Workflow `build`. */
export const spec = (auth: unknown, extra: object = {}) =>
  WebhookTriggerSpec.parse({ workflowRef: { name: 'build' }, auth, ...extra });

export const workflowSpec = WorkflowSpec.parse({
  jobTemplate: {
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
  },
});

/** desiredRoute's input: trigger ns/t (uid tu, generation 2) of `s`, bound to `build` (uid wu). */
export const routeInput = (
  s: WebhookTriggerSpec,
  credentials: RouteInput['credentials'] = {},
  more: Partial<RouteInput> = {},
): RouteInput => ({
  trigger: { namespace: 'ns', name: 't', uid: 'tu', generation: 2, spec: s },
  workflow: { name: 'build', uid: 'wu', spec: workflowSpec },
  credentials,
  ...more,
});

/** Deterministic generators that count their calls, so a test can prove nothing was generated. */
export function counting(): Generators & { calls: number } {
  const g = {
    calls: 0,
    token: () => `hgt_token${++g.calls}`,
    signingSecret: () => `whsec_secret${++g.calls}`,
    basic: () => ({ username: `hguser${++g.calls}`, password: `pass${g.calls}` }),
    urlToken: () => `hgu_url${++g.calls}`,
    bodySecret: () => `hgs_body${++g.calls}`,
    verifyToken: () => `hgv_verify${++g.calls}`,
  };
  return g;
}
