// The chart's monitoring objects. The alerts, as the PrometheusRule renders them: `promtool check
// rules`, then `promtool test rules` with input series for every alert
// (test/prometheus/alerts-test.yaml), and each alert's runbook in docs/runbooks.md. The Grafana
// dashboard's ConfigMap for the sidecar. That the metrics both name exist is checked on the running
// components by test/metrics.test.ts.
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { renderChart } from './chart.test-helper.ts';
import { promtool, promtoolPath, runBinary } from './helpers.ts';

const ROOT = resolve(import.meta.dirname, '..');
const TESTS = join(ROOT, 'test/prometheus/alerts-test.yaml');

interface Rule {
  alert: string;
  expr: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
interface PrometheusRule {
  kind: string;
  metadata: { labels: Record<string, string> };
  spec: { groups: { name: string; rules: Rule[] }[] };
}

/** The chart's PrometheusRule for release "hookgate" in "hookgate-system", with `--set` values. */
async function renderRules(...set: string[]): Promise<PrometheusRule> {
  const docs = await renderChart('templates/prometheusrule.yaml', ['prometheusRule.enabled=true', ...set]);
  expect(docs).toHaveLength(1);
  return docs[0] as unknown as PrometheusRule;
}

const alertsOf = (rule: PrometheusRule) => rule.spec.groups.flatMap((g) => g.rules);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hookgate-alerts-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `promtool test rules` of the test file against these rules. */
async function promtoolTest(rule: PrometheusRule) {
  await writeFile(join(dir, 'rules.yaml'), stringify({ groups: rule.spec.groups }));
  await copyFile(TESTS, join(dir, 'alerts-test.yaml'));
  const check = await promtool(['check', 'rules', join(dir, 'rules.yaml')]);
  const test = await promtool(['test', 'rules', join(dir, 'alerts-test.yaml')]);
  return { check, test };
}

describe('the PrometheusRule', () => {
  it('is off by default', async () => {
    const r = await runBinary('helm', [
      ...['template', 'hookgate', join(ROOT, 'charts/hookgate'), '--kube-version', 'v1.35.4'],
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('kind: PrometheusRule');
  });

  it('passes promtool check rules and its unit tests, with input series for every alert', async (ctx) => {
    if (!promtoolPath()) return ctx.skip();
    const rule = await renderRules();
    const { check, test } = await promtoolTest(rule);
    expect(check.stdout + check.stderr).toContain(`SUCCESS: ${alertsOf(rule).length} rules found`);
    expect({ code: test.code, out: test.stdout + test.stderr }).toMatchObject({ code: 0 });

    const tests = parse(await readFile(TESTS, 'utf8')) as {
      tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const fired = new Set(
      tests.tests.flatMap((t) =>
        (t.alert_rule_test ?? []).filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname),
      ),
    );
    expect([...fired].sort()).toEqual(
      alertsOf(rule)
        .map((a) => a.alert)
        .sort(),
    );
  });

  it('fails its unit tests when an alert is missing (the tests can fail)', async (ctx) => {
    if (!promtoolPath()) return ctx.skip();
    const { test } = await promtoolTest(await renderRules('prometheusRule.disabled={HookgateNoLeader}'));
    expect(test.code).not.toBe(0);
    expect(test.stdout + test.stderr).toContain('alertname: HookgateNoLeader');
  });

  it('gives every alert a severity, a summary, a description and a runbook that exists', async () => {
    const runbooks = await readFile(join(ROOT, 'docs/runbooks.md'), 'utf8');
    const anchors = new Set([...runbooks.matchAll(/^## (\S+)$/gm)].map((m) => m[1]!.toLowerCase()));
    for (const a of alertsOf(await renderRules())) {
      expect(a.alert).toMatch(/^Hookgate[A-Z][A-Za-z]+$/);
      expect(['warning', 'critical']).toContain(a.labels.severity);
      expect(a.annotations.summary, a.alert).toBeTruthy();
      expect(a.annotations.description, a.alert).toBeTruthy();
      const url = `https://github.com/hookgate/hookgate/blob/main/docs/runbooks.md#${a.alert.toLowerCase()}`;
      expect(a.annotations.runbook_url).toBe(url);
      expect(anchors.has(a.alert.toLowerCase()), `docs/runbooks.md has no "## ${a.alert}"`).toBe(true);
    }
  });

  it('selects the scrape jobs of the release, takes extra labels and leaves out disabled alerts', async () => {
    const rule = await renderRules(
      'prometheusRule.labels.release=kube-prometheus',
      'prometheusRule.alertLabels.team=platform',
      'prometheusRule.disabled={HookgateFlooding,HookgateQueueFull}',
      'prometheusRule.runbookURL=https://wiki.example.com/hookgate',
    );
    expect(rule.kind).toBe('PrometheusRule');
    expect(rule.metadata.labels.release).toBe('kube-prometheus');
    const alerts = alertsOf(rule);
    expect(alerts.map((a) => a.alert)).not.toContain('HookgateFlooding');
    expect(alerts.map((a) => a.alert)).not.toContain('HookgateQueueFull');
    for (const a of alerts) {
      expect(a.labels.team).toBe('platform');
      expect(a.annotations.runbook_url).toBe(`https://wiki.example.com/hookgate#${a.alert.toLowerCase()}`);
      expect(a.expr).not.toContain('__');
      expect(a.expr).toMatch(/job="hookgate-(ingress|operator-metrics)"/);
    }
  });

  it('refuses an unknown alert name in disabled', async () => {
    const r = await runBinary('helm', [
      ...['template', 'hookgate', join(ROOT, 'charts/hookgate'), '--kube-version', 'v1.35.4'],
      ...['--set', 'prometheusRule.enabled=true', '--set', 'prometheusRule.disabled={HookgateNoSuchAlert}'],
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('prometheusRule.disabled: no alert is named HookgateNoSuchAlert');
  });
});

describe('tracing', () => {
  it("passes ingress.extraEnv (the OTEL_* variables) to the ingress's container only", async () => {
    const docs = (await renderChart('templates/ingress-deployment.yaml', [
      'ingress.extraEnv[0].name=OTEL_EXPORTER_OTLP_ENDPOINT',
      'ingress.extraEnv[0].value=http://otel-collector.observability:4318',
    ])) as { spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } } }[];
    expect(docs[0]!.spec.template.spec.containers[0]!.env).toContainEqual({
      name: 'OTEL_EXPORTER_OTLP_ENDPOINT',
      value: 'http://otel-collector.observability:4318',
    });
  });
});

describe("the dashboard's ConfigMap", () => {
  it('is off by default', async () => {
    const r = await runBinary('helm', [
      ...['template', 'hookgate', join(ROOT, 'charts/hookgate'), '--kube-version', 'v1.35.4'],
    ]);
    expect(r.stdout).not.toContain('hookgate.json');
  });

  it("carries the dashboard as generated, with the sidecar's label, in the namespace asked for", async () => {
    const [cm] = (await renderChart('templates/grafana-dashboard.yaml', [
      'grafanaDashboard.enabled=true',
      'grafanaDashboard.namespace=monitoring',
      'grafanaDashboard.annotations.grafana_folder=Platform',
    ])) as {
      metadata: { namespace: string; labels: Record<string, string>; annotations: Record<string, string> };
      data: Record<string, string>;
    }[];
    const file = await readFile(join(ROOT, 'charts/hookgate/dashboards/hookgate.json'), 'utf8');
    expect(cm!.metadata.namespace).toBe('monitoring');
    expect(cm!.metadata.labels.grafana_dashboard).toBe('1');
    expect(cm!.metadata.annotations.grafana_folder).toBe('Platform');
    expect(JSON.parse(cm!.data['hookgate.json']!)).toEqual(JSON.parse(file));
    expect(JSON.parse(file)).toMatchObject({ uid: 'hookgate', title: 'hookgate' });
  });
});
