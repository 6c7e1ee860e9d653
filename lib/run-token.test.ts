// A run's pod and the API token of its ServiceAccount (issue 20: runs process internet input).
import { describe, expect, it } from 'vitest';
import { WorkflowSpec } from '../api/v1alpha1/index.ts';
import { testRoute } from './route.test-helper.ts';
import { buildRun, validationRun } from './run.ts';

const pod = (extra: Record<string, unknown> = {}) => ({
  restartPolicy: 'Never',
  containers: [{ name: 'main', image: 'busybox' }],
  ...extra,
});

function runPod(podSpec: Record<string, unknown>) {
  const route = testRoute({ jobTemplate: { spec: { template: { spec: podSpec } } } });
  return buildRun({ route, deliveryId: 'd-1', input: {} }).job.spec!.template.spec!;
}

describe("a run's ServiceAccount token", () => {
  it('is not mounted unless the Workflow asks for it', () => {
    expect(runPod(pod()).automountServiceAccountToken).toBe(false);
    expect(runPod(pod({ serviceAccountName: 'deployer' })).automountServiceAccountToken).toBe(false);
  });

  it('is mounted when the Workflow sets automountServiceAccountToken: true, and kept off when false', () => {
    expect(runPod(pod({ automountServiceAccountToken: true })).automountServiceAccountToken).toBe(true);
    expect(runPod(pod({ automountServiceAccountToken: false })).automountServiceAccountToken).toBe(false);
  });

  it('is off in the Job the operator dry-runs too (the same builder)', () => {
    const job = validationRun('team-a', {
      name: 'build',
      uid: 'u',
      spec: WorkflowSpec.parse({ jobTemplate: { spec: { template: { spec: pod() } } } }),
    });
    expect(job.spec?.template.spec?.automountServiceAccountToken).toBe(false);
  });
});
