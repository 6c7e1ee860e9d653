// Every manifest in examples/ is valid: it parses with the API's zod schemas, the API server with
// hookgate's CRDs accepts it (and defaults it exactly as zod does), and the GitOps examples carry
// chart values that pass the chart's strict values schema.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { WebhookTriggerSchema, WorkflowSchema } from '../api/v1alpha1/index.ts';
import { clusterInfo, kubectl, useNamespace } from './helpers.ts';

const EXAMPLES = fileURLToPath(new URL('../examples', import.meta.url));
const CHART = fileURLToPath(new URL('../charts/hookgate', import.meta.url));

// biome-ignore lint/suspicious/noExplicitAny: parsed manifests are checked field by field
type Obj = any;

const load = (file: string): Obj[] =>
  parseAllDocuments(readFileSync(join(EXAMPLES, file), 'utf8'))
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]!.message}`);
      return d.toJS();
    })
    .filter(Boolean);

const files = readdirSync(EXAMPLES, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const manifests = files.filter((f) => !f.startsWith('gitops/'));

// A provider's example carries the Secret its provider issues, with a placeholder value.
const SecretSchema = z.object({
  apiVersion: z.literal('v1'),
  kind: z.literal('Secret'),
  metadata: z.object({ name: z.string() }).strict(),
  type: z.literal('Opaque'),
  stringData: z.record(z.string(), z.string().min(16)),
});
const schemas: Record<string, { parse(o: unknown): Obj }> = {
  Workflow: WorkflowSchema,
  WebhookTrigger: WebhookTriggerSchema,
  Secret: SecretSchema,
};

describe('examples parse with the API schemas', () => {
  it('has every example the README promises', () => {
    expect(manifests).toEqual(
      expect.arrayContaining([
        'quickstart.yaml',
        'github-push.yaml',
        'stripe.yaml',
        'standard-webhooks.yaml',
        'referenced-secret.yaml',
        'wait-mode.yaml',
      ]),
    );
    expect(manifests.filter((f) => f.startsWith('formats/'))).toHaveLength(5);
    expect(files).toEqual(
      expect.arrayContaining(['gitops/argocd-application.yaml', 'gitops/flux-helmrelease.yaml']),
    );
  });

  it.each(manifests)('%s', (file) => {
    const objs = load(file);
    const workflows = new Set<string>();
    for (const o of objs) {
      const schema = schemas[o.kind];
      expect(schema, `${file}: unexpected kind ${o.kind}`).toBeDefined();
      schema!.parse(o);
      // Applied with `kubectl apply -n <ns>`: no namespace of their own.
      expect(o.metadata.namespace).toBeUndefined();
      if (o.kind === 'Workflow') {
        workflows.add(o.metadata.name);
        const containers = o.spec.jobTemplate.spec.template.spec.containers as Obj[];
        expect(containers.some((c) => JSON.stringify(c.command).includes('$HOOKGATE_INPUT_FILE'))).toBe(true);
      }
    }
    const triggers = objs.filter((o) => o.kind === 'WebhookTrigger');
    expect(triggers.length).toBeGreaterThan(0);
    for (const t of triggers)
      expect(workflows.has(t.spec.workflowRef.name), `${t.metadata.name}'s workflow`).toBe(true);
  });

  // Each sender format of ../shared/reference/ (and the well-known senders) as the trigger says it.
  it.each([
    [
      'formats/shared-secret.yaml',
      { auth: { signature: { scheme: 'shared-secret', header: 'X-Webhook-Secret' } } },
    ],
    [
      'formats/timestamped-milliseconds.yaml',
      {
        auth: {
          signature: { scheme: 'timestamped', header: 'X-Toolplex-Signature', timestampUnit: 'milliseconds' },
        },
      },
    ],
    [
      'formats/bearer-and-hmac-with-defaults.yaml',
      {
        auth: {
          bearer: {},
          signature: { scheme: 'hmac-sha256', header: 'X-Agentruntime-Signature', prefix: 'sha256=' },
        },
        input: { defaults: { source: 'shopify' } },
      },
    ],
    [
      'formats/bearer-and-hmac.yaml',
      {
        auth: {
          bearer: {},
          signature: { scheme: 'hmac-sha256', header: 'X-Webhook-Signature', prefix: 'sha256=' },
        },
        rateLimit: { requests: 30, periodSeconds: 60 },
      },
    ],
    [
      'formats/hmac-hex-wait.yaml',
      {
        auth: { signature: { scheme: 'hmac-sha256', header: 'X-Webhook-Signature', encoding: 'hex' } },
        input: { query: true },
        response: { mode: 'wait', statusCode: 200 },
      },
    ],
    ['quickstart.yaml', { auth: { bearer: {} } }],
    [
      'github-push.yaml',
      { auth: { signature: { scheme: 'github' } }, filter: { headers: { 'X-GitHub-Event': ['push'] } } },
    ],
    ['stripe.yaml', { auth: { signature: { scheme: 'stripe' } } }],
    ['standard-webhooks.yaml', { auth: { signature: { scheme: 'standard-webhooks' } } }],
    [
      'referenced-secret.yaml',
      {
        auth: {
          bearer: { secretRef: { name: 'deploy-hook' } },
          signature: { secretRef: { name: 'deploy-hook' } },
        },
      },
    ],
    ['wait-mode.yaml', { response: { mode: 'wait' } }],
  ])('%s has the expected trigger', (file, expected) => {
    const [trigger] = load(file).filter((o) => o.kind === 'WebhookTrigger');
    const spec = WebhookTriggerSchema.parse(trigger).spec;
    expect(spec).toMatchObject(expected);
    if (file === 'formats/hmac-hex-wait.yaml') expect(spec.auth.signature?.prefix).toBeUndefined();
    if (file === 'formats/shared-secret.yaml' || file === 'formats/timestamped-milliseconds.yaml') {
      expect(spec.auth.bearer).toBeUndefined();
    }
  });
});

describe('examples on the API server', () => {
  const ns = useNamespace('examples');

  it.each(manifests)('%s is accepted and defaulted as zod defaults it', async (file) => {
    const r = await kubectl(['apply', '-n', ns.name, '-f', join(EXAMPLES, file)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const o of load(file).filter((x) => x.kind !== 'Secret')) {
      const got = await kubectl([
        'get',
        `${o.kind.toLowerCase()}s.hookgate.io`,
        o.metadata.name,
        '-n',
        ns.name,
        '-o',
        'json',
      ]);
      expect(got.code, got.stderr).toBe(0);
      expect(JSON.parse(got.stdout).spec).toEqual(schemas[o.kind]!.parse(o).spec);
    }
  });
});

describe('GitOps examples', () => {
  function helmTemplate(values: object): Promise<{ code: number; stderr: string }> {
    const child = spawn(
      join(clusterInfo().binDir, 'helm'),
      ['template', 'hookgate', CHART, '-n', 'hookgate-system', '--kube-version', '1.35.0', '-f', '-'],
      { stdio: ['pipe', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.stdin.end(JSON.stringify(values));
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve({ code: code ?? -1, stderr }));
    });
  }

  it('Argo CD Application installs the chart from this repository with valid values', async () => {
    const [app] = load('gitops/argocd-application.yaml');
    expect(app).toMatchObject({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application' });
    expect(app.spec.source.path).toBe('charts/hookgate');
    const r = await helmTemplate(app.spec.source.helm.valuesObject);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('Flux HelmRelease installs the chart from its OCIRepository with valid values', async () => {
    const objs = load('gitops/flux-helmrelease.yaml');
    const source = objs.find((o) => o.kind === 'OCIRepository');
    const release = objs.find((o) => o.kind === 'HelmRelease');
    expect(release.spec.chartRef).toEqual({ kind: 'OCIRepository', name: source.metadata.name });
    const r = await helmTemplate(release.spec.values);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
