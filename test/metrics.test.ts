// The metrics both components export, read from the running processes (operator and ingress under
// the chart's RBAC, as e2e runs them): the conventions (process metrics, build info, API requests
// by verb/resource/code), a trigger's counters present at zero while its route exists, and the
// text clean under `promtool check metrics`.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Hookgate, startHookgate } from './harness/index.ts';
import { clusterInfo, kubectl, promtool, promtoolPath, useNamespace, waitFor } from './helpers.ts';

const app = useNamespace('metrics');
const system = `hookgate-system-metrics-${randomBytes(3).toString('hex')}`;
let hg: Hookgate;

beforeAll(async () => {
  hg = await startHookgate(clusterInfo(), { namespace: system });
});
afterAll(async () => {
  await hg?.stop();
  await kubectl(['delete', 'namespace', system, '--wait=false', '--ignore-not-found']);
});

const scrape = async (url: string) => {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return res.text();
};

async function apply(manifest: object[]) {
  const r = await kubectl(['apply', '-n', app.name, '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manifest }),
  });
  if (r.code !== 0) throw new Error(`kubectl apply: ${r.stderr}`);
}

const workflow = (name: string) => ({
  apiVersion: 'hookgate.io/v1alpha1',
  kind: 'Workflow',
  metadata: { name },
  spec: {
    jobTemplate: {
      spec: {
        backoffLimit: 0,
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox:1.37' }] } },
      },
    },
  },
});
const trigger = (name: string, auth: object) => ({
  apiVersion: 'hookgate.io/v1alpha1',
  kind: 'WebhookTrigger',
  metadata: { name },
  spec: { workflowRef: { name: 'metrics' }, auth },
});

describe('both components', () => {
  it('export process metrics, hookgate_build_info and their API requests by verb, resource and code', async () => {
    // Every API request either makes: the ingress's route Secret list and watch, the operator's
    // Lease and lists, all counted by the one client.
    const ingress = await waitFor(
      async () => {
        const t = await scrape(hg.metricsUrl);
        return t.includes('verb="watch",resource="jobs.batch",code="200"') && t;
      },
      { what: 'the ingress to count its watches' },
    );
    const operator = await scrape(hg.operatorMetricsUrl);
    for (const [component, text] of [
      ['ingress', ingress],
      ['operator', operator],
    ] as const) {
      expect(text).toMatch(
        new RegExp(
          `^hookgate_build_info\\{component="${component}",version="\\d+\\.\\d+\\.\\d+[^"]*",nodejs_version="${process.versions.node.split('.')[0]}\\.[^"]+"\\} 1$`,
          'm',
        ),
      );
      expect(text).toMatch(/^process_cpu_seconds_total \d/m);
      expect(text).toMatch(/^process_resident_memory_bytes \d/m);
      expect(text).toMatch(/^nodejs_heap_size_used_bytes \d/m);
      expect(text).toMatch(/^nodejs_active_handles\{type="/m);
      // Gauges named like counters are left out: promtool and Prometheus' naming forbid them.
      expect(text).not.toContain('nodejs_active_handles_total');
      expect(text).toMatch(
        /^hookgate_kube_requests_total\{verb="list",resource="secrets",code="200"\} [1-9]/m,
      );
      expect(text).toMatch(
        /^hookgate_kube_request_duration_seconds_count\{verb="list",resource="secrets"\} [1-9]/m,
      );
    }
    expect(ingress).toMatch(
      /^hookgate_kube_requests_total\{verb="watch",resource="secrets",code="200"\} [1-9]/m,
    );
    expect(operator).toMatch(
      /^hookgate_kube_requests_total\{verb="(create|update)",resource="leases\.coordination\.k8s\.io",code="20[01]"\} [1-9]/m,
    );
    expect(operator).toMatch(
      /^hookgate_kube_requests_total\{verb="list",resource="webhooktriggers\.hookgate\.io",code="200"\} [1-9]/m,
    );
  });

  it('are clean under promtool check metrics', async (ctx) => {
    if (!promtoolPath()) return ctx.skip();
    for (const url of [hg.metricsUrl, hg.operatorMetricsUrl]) {
      const r = await promtool(['check', 'metrics'], await scrape(url));
      expect({ url, code: r.code, problems: `${r.stdout}${r.stderr}` }).toEqual({
        url,
        code: 0,
        problems: '',
      });
    }
  });
});

describe("a trigger's counters", () => {
  const series = async (trigger: string) =>
    (await scrape(hg.metricsUrl)).split('\n').filter((l) => l.includes(`trigger="${trigger}"`));

  it('are present at zero as soon as its route exists, and go when it goes', async () => {
    await apply([workflow('metrics'), trigger('zeroed', { signature: { scheme: 'github' } })]);
    const name = `${app.name}/zeroed`;
    const lines = await waitFor(
      async () => {
        const s = await series(name);
        return s.length > 0 && s;
      },
      { what: 'the route to reach the ingress' },
    );
    expect(lines.sort()).toEqual(
      [
        `hookgate_ingress_duplicates_total{trigger="${name}"} 0`,
        `hookgate_ingress_rate_limited_total{trigger="${name}"} 0`,
        `hookgate_ingress_requests_total{trigger="${name}",outcome="accepted"} 0`,
        `hookgate_ingress_runs_finished_total{trigger="${name}",result="Failed"} 0`,
        `hookgate_ingress_runs_finished_total{trigger="${name}",result="Succeeded"} 0`,
        `hookgate_ingress_runs_started_total{trigger="${name}"} 0`,
        `hookgate_ingress_verification_failures_total{trigger="${name}",reason="invalid_signature"} 0`,
      ].sort(),
    );

    const res = await fetch(`${hg.url}/hooks/${app.name}/zeroed`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
    expect(await series(name)).toContain(
      `hookgate_ingress_requests_total{trigger="${name}",outcome="unauthorized"} 1`,
    );

    const del = await kubectl(['delete', '-n', app.name, 'webhooktrigger', 'zeroed']);
    expect(del.code).toBe(0);
    await waitFor(async () => (await series(name)).length === 0, { what: "the trigger's series to go" });
  });
});
