// Generates hookgate's Grafana dashboard, charts/hookgate/dashboards/hookgate.json (shipped by the
// chart as a ConfigMap for Grafana's sidecar, grafanaDashboard.enabled). The panels are listed here
// once; layout, ids and Grafana's boilerplate are computed. `--check` fails when the file differs.
// test/metrics.test.ts parses every query and checks each metric it names against the running
// components' /metrics.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const OUT = join(resolve(import.meta.dirname, '..'), 'charts/hookgate/dashboards/hookgate.json');

// Template variables: the scrape jobs of each component (found through hookgate_build_info, so any
// job name works) and the triggers to show.
const I = 'job=~"$ingress"';
const T = `${I}, trigger=~"$trigger"`;
const O = 'job=~"$operator"';
const RATE = '[$__rate_interval]';

interface Query {
  expr: string;
  legend?: string;
  /** A table of the series as they are now (Grafana's instant query). */
  instant?: boolean;
}
interface Panel {
  title: string;
  description: string;
  queries: Query[];
  unit?: string;
  kind?: 'timeseries' | 'stat' | 'table';
  /** Grid columns of 24 (default 12: two panels a row). */
  width?: number;
}
type Row = { row: string; panels: Panel[] };

const q = (expr: string, legend?: string): Query => ({ expr, legend });
const quantiles = (metric: string, selector: string, by = '') =>
  [0.5, 0.99].map((p) =>
    q(
      `histogram_quantile(${p}, sum by (le${by ? `, ${by}` : ''}) (rate(${metric}_bucket{${selector}}${RATE})))`,
      `p${p * 100}${by ? ` {{${by}}}` : ''}`,
    ),
  );

const ROWS: Row[] = [
  {
    row: 'Deliveries',
    panels: [
      {
        title: 'Requests by outcome',
        description: 'Every webhook request by how it ended (docs/troubleshooting.md lists the outcomes).',
        queries: [q(`sum by (outcome) (rate(hookgate_ingress_requests_total{${T}}${RATE}))`, '{{outcome}}')],
        unit: 'reqps',
      },
      {
        title: 'Accepted deliveries by trigger',
        description: 'Deliveries that started a run (accepted) or found it started (duplicate).',
        queries: [
          q(
            `sum by (trigger, outcome) (rate(hookgate_ingress_requests_total{${T}, outcome=~"accepted|duplicate"}${RATE}))`,
            '{{trigger}} {{outcome}}',
          ),
        ],
        unit: 'reqps',
      },
      {
        title: 'Rejections by reason',
        description:
          'Verification failures by reason, and every other refusal of a known trigger by outcome (status.rejections shows the latest of each).',
        queries: [
          q(
            `sum by (reason) (rate(hookgate_ingress_verification_failures_total{${T}}${RATE}))`,
            'verification: {{reason}}',
          ),
          q(
            `sum by (outcome) (rate(hookgate_ingress_requests_total{${T}, outcome!~"accepted|duplicate|filtered|challenge|unauthorized"}${RATE}))`,
            '{{outcome}}',
          ),
        ],
        unit: 'reqps',
      },
      {
        title: 'Floods and rate limits',
        description:
          'Requests refused by the per-address flood guard (no trigger: an address is never a label), and verified deliveries over a trigger rate limit.',
        queries: [
          q(`sum(rate(hookgate_ingress_flood_rejected_total{${I}}${RATE}))`, 'flooded'),
          q(
            `sum by (trigger) (rate(hookgate_ingress_rate_limited_total{${T}}${RATE}))`,
            'rate limited {{trigger}}',
          ),
        ],
        unit: 'reqps',
      },
      {
        title: 'Answer latency (accepted)',
        description:
          'Time to answer an accepted delivery, the Job created (wait-mode answers include the run).',
        queries: quantiles('hookgate_ingress_request_duration_seconds', `${I}, outcome="accepted"`),
        unit: 's',
      },
      {
        title: 'Server errors (5xx)',
        description:
          'Answers 500 and 503 by outcome: the API server unavailable, a full queue, a trigger that cannot run.',
        queries: [
          q(
            `sum by (outcome) (rate(hookgate_ingress_requests_total{${T}, outcome=~"api_unavailable|queue_full|trigger_unavailable|run_rejected|input_schema_unusable|internal_error"}${RATE}))`,
            '{{outcome}}',
          ),
        ],
        unit: 'reqps',
      },
    ],
  },
  {
    row: 'Runs',
    panels: [
      {
        title: 'Runs started and finished',
        description: 'Runs (Jobs) the ingress started, and those it saw finish, by result.',
        queries: [
          q(`sum(rate(hookgate_ingress_runs_started_total{${T}}${RATE}))`, 'started'),
          q(`sum by (result) (rate(hookgate_ingress_runs_finished_total{${T}}${RATE}))`, '{{result}}'),
        ],
        unit: 'ops',
      },
      {
        title: 'Run duration',
        description: 'From the Job start to its completion, by result.',
        queries: quantiles('hookgate_ingress_run_duration_seconds', I, 'result'),
        unit: 's',
      },
      {
        title: 'Job-create latency',
        description:
          "Time to create a run's Job and input Secret in the API server (alert: HookgateJobCreateSlow).",
        queries: quantiles('hookgate_ingress_job_create_duration_seconds', I),
        unit: 's',
      },
      {
        title: 'Failed runs by trigger',
        description: 'Share of finished runs that failed, per trigger.',
        queries: [
          q(
            `sum by (trigger) (rate(hookgate_ingress_runs_finished_total{${T}, result="Failed"}${RATE})) / sum by (trigger) (rate(hookgate_ingress_runs_finished_total{${T}}${RATE}))`,
            '{{trigger}}',
          ),
        ],
        unit: 'percentunit',
      },
    ],
  },
  {
    row: 'Operator',
    panels: [
      {
        title: 'Leader',
        description: 'Operator replicas holding the leader Lease: 1 is healthy (alert: HookgateNoLeader).',
        queries: [q(`sum(hookgate_leader{${O}})`, 'leaders')],
        kind: 'stat',
        width: 6,
      },
      {
        title: 'Triggers not Ready',
        description: 'WebhookTriggers whose Ready condition is False.',
        queries: [
          q(
            `count(hookgate_condition{${O}, kind="WebhookTrigger", type="Ready", status="False"} == 1) or vector(0)`,
            'not Ready',
          ),
        ],
        kind: 'stat',
        width: 6,
      },
      {
        title: 'Triggers and Workflows not Ready',
        description: 'Each object whose Ready condition is False; kubectl describe says why.',
        queries: [
          {
            expr: `max by (kind, namespace, name) (hookgate_condition{${O}, type="Ready", status="False"}) == 1`,
            instant: true,
          },
        ],
        kind: 'table',
      },
      {
        title: 'Reconciles by result',
        description: 'Reconciles per second by controller and result.',
        queries: [
          q(
            `sum by (controller, result) (rate(hookgate_reconcile_total{${O}}${RATE}))`,
            '{{controller}} {{result}}',
          ),
        ],
        unit: 'ops',
      },
      {
        title: 'Reconcile errors',
        description: 'Failed reconciles per second (retried with backoff; alert: HookgateReconcileErrors).',
        queries: [
          q(`sum by (controller) (rate(hookgate_reconcile_errors_total{${O}}${RATE}))`, '{{controller}}'),
        ],
        unit: 'ops',
      },
      {
        title: 'Reconcile duration',
        description: 'Time spent in one reconcile.',
        queries: quantiles('hookgate_reconcile_duration_seconds', O, 'controller'),
        unit: 's',
      },
      {
        title: 'Work queue depth',
        description: 'Objects waiting to be reconciled (alert: HookgateWorkqueueBacklog).',
        queries: [q(`max by (name) (hookgate_workqueue_depth{${O}})`, '{{name}}')],
        unit: 'short',
      },
    ],
  },
  {
    row: 'Processes and the API server',
    panels: [
      {
        title: 'API requests',
        description:
          'Requests of both components to the API server by verb, resource and code (<error>: no answer).',
        queries: [
          q(
            `sum by (verb, resource, code) (rate(hookgate_kube_requests_total{job=~"$ingress|$operator"}${RATE}))`,
            '{{verb}} {{resource}} {{code}}',
          ),
        ],
        unit: 'reqps',
      },
      {
        title: 'API request latency (p99)',
        description: 'Time to the answer of an API request (watches excluded).',
        queries: [
          q(
            `histogram_quantile(0.99, sum by (le, verb, resource) (rate(hookgate_kube_request_duration_seconds_bucket{job=~"$ingress|$operator"}${RATE})))`,
            '{{verb}} {{resource}}',
          ),
        ],
        unit: 's',
      },
      {
        title: 'CPU',
        description: 'CPU seconds per second of each replica.',
        queries: [
          q(`rate(process_cpu_seconds_total{job=~"$ingress|$operator"}${RATE})`, '{{job}} {{instance}}'),
        ],
        unit: 'percentunit',
      },
      {
        title: 'Memory (RSS)',
        description: 'Resident memory of each replica.',
        queries: [q('process_resident_memory_bytes{job=~"$ingress|$operator"}', '{{job}} {{instance}}')],
        unit: 'bytes',
      },
      {
        title: 'Event loop lag (p99)',
        description: 'How late the event loop runs: requests wait at least this long.',
        queries: [q('nodejs_eventloop_lag_p99_seconds{job=~"$ingress|$operator"}', '{{job}} {{instance}}')],
        unit: 's',
      },
      {
        title: 'Versions',
        description: 'hookgate and Node.js version of each replica.',
        queries: [{ expr: 'hookgate_build_info{job=~"$ingress|$operator"}', instant: true }],
        kind: 'table',
      },
    ],
  },
];

// Grafana's own variable syntax, not a template string.
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana substitutes ${datasource}
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

function variable(name: string, label: string, query: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    label,
    type: 'query',
    datasource: DATASOURCE,
    query: { query, refId: name },
    definition: query,
    refresh: 2,
    sort: 1,
    includeAll: false,
    multi: false,
    ...extra,
  };
}

function panelJSON(p: Panel, id: number, gridPos: { x: number; y: number; w: number; h: number }) {
  const kind = p.kind ?? 'timeseries';
  return {
    id,
    type: kind,
    title: p.title,
    description: p.description,
    datasource: DATASOURCE,
    gridPos,
    targets: p.queries.map((t, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: DATASOURCE,
      expr: t.expr,
      ...(t.legend ? { legendFormat: t.legend } : {}),
      ...(t.instant || kind === 'table' ? { instant: true, range: false, format: 'table' } : {}),
    })),
    fieldConfig: { defaults: { unit: p.unit ?? 'short' }, overrides: [] },
    options:
      kind === 'timeseries'
        ? {
            legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
            tooltip: { mode: 'multi' },
          }
        : {},
  };
}

export function dashboard() {
  const panels: unknown[] = [];
  let id = 1;
  let y = 0;
  for (const { row, panels: list } of ROWS) {
    panels.push({
      id: id++,
      type: 'row',
      title: row,
      collapsed: false,
      gridPos: { x: 0, y: y++, w: 24, h: 1 },
      panels: [],
    });
    let x = 0;
    for (const p of list) {
      const w = p.width ?? 12;
      const h = p.kind === 'stat' ? 4 : 8;
      if (x + w > 24) {
        x = 0;
        y += 8;
      }
      panels.push(panelJSON(p, id++, { x, y, w, h }));
      x += w;
    }
    y += 8;
  }
  return {
    uid: 'hookgate',
    title: 'hookgate',
    description: "Webhook deliveries, runs, the operator and the API server, from hookgate's own metrics.",
    tags: ['hookgate', 'kubernetes'],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    time: { from: 'now-6h', to: 'now' },
    refresh: '1m',
    links: [
      {
        title: 'Runbooks',
        type: 'link',
        url: 'https://github.com/hookgate/hookgate/blob/main/docs/runbooks.md',
        targetBlank: true,
      },
    ],
    templating: {
      list: [
        { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', current: {} },
        variable('ingress', 'Ingress job', 'label_values(hookgate_build_info{component="ingress"}, job)'),
        variable('operator', 'Operator job', 'label_values(hookgate_build_info{component="operator"}, job)'),
        variable(
          'trigger',
          'Trigger',
          'label_values(hookgate_ingress_requests_total{job=~"$ingress"}, trigger)',
          {
            includeAll: true,
            multi: true,
            allValue: '.*',
            current: { text: 'All', value: '$__all' },
          },
        ),
      ],
    },
    panels,
  };
}

const text = `${JSON.stringify(dashboard(), null, 2)}\n`;
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(OUT, 'utf8');
  } catch {}
  if (current !== text) {
    console.error(`${OUT} is out of date: run npm run gen`);
    process.exit(1);
  }
} else {
  writeFileSync(OUT, text);
}
