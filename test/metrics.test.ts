// The metrics both components export, read from the running processes (operator and ingress under
// the chart's RBAC, as e2e runs them): the conventions (process metrics, build info, API requests
// by verb/resource/code), a trigger's counters present at zero while its route exists, and the
// text clean under `promtool check metrics`.
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderChart } from './chart.test-helper.ts';
import { kubectl, promtool, promtoolPath, useHookgate, useNamespace, waitFor } from './helpers.ts';
import { applyObjects, triggerObject, workflowObject } from './objects.test-helper.ts';

const ROOT = resolve(import.meta.dirname, '..');

const app = useNamespace('metrics');
const running = useHookgate('metrics');

const scrape = async (url: string) => {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return res.text();
};

const apply = (objects: object[]) => applyObjects(app.name, objects);
const trigger = (name: string, auth: object) => triggerObject(name, 'metrics', { spec: { auth } });

describe('both components', () => {
  it('export process metrics, hookgate_build_info and their API requests by verb, resource and code', async () => {
    // Every API request either makes: the ingress's route Secret list and watch, the operator's
    // Lease and lists, all counted by the one client.
    const ingress = await waitFor(
      async () => {
        const t = await scrape(running.hg.metricsUrl);
        return t.includes('verb="watch",resource="jobs.batch",code="200"') && t;
      },
      { what: 'the ingress to count its watches' },
    );
    const operator = await scrape(running.hg.operatorMetricsUrl);
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
    for (const url of [running.hg.metricsUrl, running.hg.operatorMetricsUrl]) {
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
    (await scrape(running.hg.metricsUrl)).split('\n').filter((l) => l.includes(`trigger="${trigger}"`));

  it('are present at zero as soon as its route exists, and go when it goes', async () => {
    await apply([workflowObject('metrics'), trigger('zeroed', { signature: { scheme: 'github' } })]);
    const name = `${app.name}/zeroed`;
    // Until its Workflow is Ready the trigger's route is an unavailable one (503, no credentials),
    // whose zeroed failure is a token's; the route with the signature replaces it.
    const lines = await waitFor(
      async () => {
        const s = await series(name);
        return s.some((l) => l.includes('reason="invalid_signature"')) && s;
      },
      { what: 'the route with its signature to reach the ingress' },
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

    const res = await fetch(`${running.hg.url}/hooks/${app.name}/zeroed`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
    expect(await series(name)).toContain(
      `hookgate_ingress_requests_total{trigger="${name}",outcome="unauthorized"} 1`,
    );

    const del = await kubectl(['delete', '-n', app.name, 'webhooktrigger', 'zeroed']);
    expect(del.code).toBe(0);
    await waitFor(async () => (await series(name)).length === 0, { what: "the trigger's series to go" });
  });
});

// ---------------------------------------------------------------------------------------------
// What the dashboard and the alerts query, against what the running components export

/** Metric families of an exposition text, with every label name seen on their series. */
function families(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const types = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    types.set(m[1]!, m[2]!);
    out.set(m[1]!, new Set());
  }
  for (const m of text.matchAll(/^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? \S+$/gm)) {
    const series = m[1]!;
    const base = series.replace(/_(bucket|sum|count)$/, '');
    const family = types.get(series) ? series : types.get(base) === 'histogram' ? base : series;
    // The family (what a dashboard names in label_values) and the series' own name (x_bucket).
    for (const name of new Set([family, series])) {
      const labels = out.get(name) ?? new Set<string>();
      for (const l of (m[2] ?? '').matchAll(/(\w+)="/g)) labels.add(l[1]!);
      out.set(name, labels);
    }
  }
  return out;
}

/** Labels Prometheus adds from the target (the chart's ServiceMonitor), not the components. */
const TARGET_LABELS = new Set(['job', 'instance', 'namespace', 'pod', 'service', 'container', 'endpoint']);
/** Series Prometheus makes itself. */
const SYNTHETIC = new Set(['up']);

interface Selector {
  metric: string;
  labels: string[];
}

/** Parses a PromQL query; the metrics it selects (with their matcher labels) and its grouping labels. */
function analyse(expr: string): { selectors: Selector[]; grouping: string[]; errors: number } {
  const tree = parser.parse(expr);
  const selectors: Selector[] = [];
  const grouping: string[] = [];
  let errors = 0;
  const c = tree.cursor();
  do {
    if (c.type.isError) errors++;
    if (c.name === 'VectorSelector') {
      const node = c.node;
      const metric = node.getChild('Identifier');
      const labels: string[] = [];
      const matchers = node.getChild('LabelMatchers');
      if (matchers) {
        const m = matchers.cursor();
        do if (m.name === 'LabelName') labels.push(expr.slice(m.from, m.to));
        while (m.next() && m.from < matchers.to);
      }
      if (metric) selectors.push({ metric: expr.slice(metric.from, metric.to), labels });
    }
    if (c.name === 'GroupingLabels') {
      const g = c.node.cursor();
      do if (g.name === 'LabelName') grouping.push(expr.slice(g.from, g.to));
      while (g.next() && g.from < c.to);
    }
  } while (c.next());
  return { selectors, grouping, errors };
}

/** What is wrong with a query against the exported families: unknown metrics and labels. */
function problems(what: string, expr: string, exported: Map<string, Set<string>>): string[] {
  const { selectors, grouping, errors } = analyse(expr);
  const out: string[] = [];
  if (errors > 0) out.push(`${what}: does not parse: ${expr}`);
  if (selectors.length === 0) out.push(`${what}: names no metric: ${expr}`);
  const labelsHere = new Set<string>(['le']);
  for (const { metric, labels } of selectors) {
    if (SYNTHETIC.has(metric)) continue;
    const known = exported.get(metric);
    if (!known) {
      out.push(`${what}: ${metric} is not exported`);
      continue;
    }
    for (const l of known) labelsHere.add(l);
    for (const l of labels)
      if (!TARGET_LABELS.has(l) && !known.has(l)) out.push(`${what}: ${metric} has no label ${l}`);
  }
  for (const l of grouping)
    if (!TARGET_LABELS.has(l) && !labelsHere.has(l) && selectors.every((s) => !SYNTHETIC.has(s.metric)))
      out.push(`${what}: groups by ${l}, which none of its metrics has`);
  return out;
}

describe('the dashboard and the alerts', () => {
  let exported: Map<string, Set<string>>;

  beforeAll(async () => {
    // A delivery that runs to the end, so every series the panels read exists: request and
    // Job-create latency, a run finished with its duration, reconciles of both controllers.
    await apply([workflowObject('metrics'), trigger('traffic', { bearer: {} })]);
    const token = await waitFor(
      async () => {
        const r = await kubectl([
          'get',
          'secret',
          '-n',
          app.name,
          'traffic-credentials',
          '-o',
          'jsonpath={.data.token}',
        ]);
        return r.code === 0 && r.stdout && Buffer.from(r.stdout, 'base64').toString('utf8');
      },
      { what: 'the generated token' },
    );
    await waitFor(
      async () => {
        const res = await fetch(`${running.hg.url}/hooks/${app.name}/traffic`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: '{}',
        });
        return res.status === 202;
      },
      { what: 'an accepted delivery' },
    );
    const text = await waitFor(
      async () => {
        const t = await scrape(running.hg.metricsUrl);
        return t.includes('hookgate_ingress_run_duration_seconds_count{result="Succeeded"}') && t;
      },
      { what: 'the run to finish', timeoutMs: 60_000 },
    );
    exported = families(`${text}\n${await scrape(running.hg.operatorMetricsUrl)}`);
  });

  it('every dashboard query parses and names only metrics and labels the components export', async () => {
    const dash = JSON.parse(
      await readFile(join(ROOT, 'charts/hookgate/dashboards/hookgate.json'), 'utf8'),
    ) as {
      panels: { title: string; targets?: { expr: string }[] }[];
      templating: { list: { name: string; type: string; query?: { query: string } }[] };
    };
    const found: string[] = [];
    let queries = 0;
    for (const p of dash.panels)
      for (const t of p.targets ?? []) {
        queries++;
        // Grafana's range variable becomes a range PromQL knows; the others sit inside strings.
        found.push(...problems(p.title, t.expr.replaceAll('$__rate_interval', '5m'), exported));
      }
    for (const v of dash.templating.list) {
      if (v.type !== 'query') continue;
      const m = v.query?.query.match(/^label_values\((\w+)(\{.*\})?,\s*(\w+)\)$/);
      if (!m) {
        found.push(`variable ${v.name}: not label_values(metric, label)`);
        continue;
      }
      found.push(...problems(`variable ${v.name}`, `${m[1]}${m[2] ?? ''}`, exported));
      if (!TARGET_LABELS.has(m[3]!) && !exported.get(m[1]!)?.has(m[3]!))
        found.push(`variable ${v.name}: ${m[1]} has no label ${m[3]}`);
    }
    expect(queries).toBeGreaterThan(20);
    expect(found).toEqual([]);
  });

  it('every alert names only metrics and labels the components export', async () => {
    const [rule] = await renderChart('templates/prometheusrule.yaml', ['prometheusRule.enabled=true']);
    const groups = (rule as { spec: { groups: { rules: { alert: string; expr: string }[] }[] } }).spec.groups;
    const found = groups.flatMap((g) => g.rules.flatMap((r) => problems(r.alert, r.expr, exported)));
    expect(found).toEqual([]);
  });

  it('the check finds a metric or label that is not exported (it can fail)', () => {
    expect(problems('p', 'rate(hookgate_ingress_requests_totl[5m])', exported)).toEqual([
      'p: hookgate_ingress_requests_totl is not exported',
    ]);
    expect(
      problems('p', 'sum by (outcomes) (hookgate_ingress_requests_total{reason="x"})', exported),
    ).toEqual([
      'p: hookgate_ingress_requests_total has no label reason',
      'p: groups by outcomes, which none of its metrics has',
    ]);
    expect(problems('p', 'sum(rate(x[5m])', exported)[0]).toMatch(/does not parse/);
  });
});
