// The chart's metadata (Chart.yaml, its Artifact Hub annotations) against what it describes: the
// CRDs generated from the API, the API schemas, values.yaml, package.json and the LICENSE file.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { WebhookTriggerSchema, WorkflowSchema } from '../api/v1alpha1/index.ts';
import { crds } from './gen-crds.ts';

const ROOT = resolve(import.meta.dirname, '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const chart = parse(read('charts/hookgate/Chart.yaml'));
const values = parse(read('charts/hookgate/values.yaml'));
const pkg = JSON.parse(read('package.json'));
const annotation = (key: string) => parse(chart.annotations[`artifacthub.io/${key}`]);

describe('Chart.yaml', () => {
  it('has the version and license of package.json, and the LICENSE file says it', () => {
    expect(chart.appVersion).toBe(pkg.version);
    expect(chart.annotations['artifacthub.io/license']).toBe(pkg.license);
    expect(pkg.license).toBe('Apache-2.0');
    expect(read('LICENSE')).toMatch(/^ +Apache License\n +Version 2\.0, January 2004\n/);
  });

  it('lists the CRDs as generated from the API', () => {
    const want = crds().map((c) => ({
      kind: c.spec.names.kind,
      version: c.spec.versions[0]!.name,
      name: c.metadata.name,
      displayName: c.spec.names.kind,
      description: c.spec.versions[0]!.schema.openAPIV3Schema.description,
    }));
    expect(annotation('crds')).toEqual(want);
  });

  it('has examples the API accepts, one per kind', () => {
    const examples = annotation('crdsExamples');
    expect(examples.map((e: { kind: string }) => e.kind)).toEqual(['Workflow', 'WebhookTrigger']);
    WorkflowSchema.parse(examples[0]);
    WebhookTriggerSchema.parse(examples[1]);
  });

  it("names the chart's own image and links to pages that exist", () => {
    expect(annotation('images')).toEqual([
      { name: 'hookgate', image: `${values.image.repository}:${chart.appVersion}` },
    ]);
    for (const { url } of annotation('links')) {
      const path = url.match(/^https:\/\/github\.com\/hookgate\/hookgate(?:\/blob\/main\/(.+))?$/);
      expect(path, url).not.toBeNull();
      if (path![1]) expect(existsSync(join(ROOT, path![1])), url).toBe(true);
    }
  });
});
