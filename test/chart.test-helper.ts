// The Helm chart as tests render it (`helm template`) and read what it renders.
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runBinary } from './helpers.ts';

const ROOT = resolve(import.meta.dirname, '..');

/** The chart's directory, for `helm`. */
export const CHART = join(ROOT, 'charts/hookgate');

export const helm = (args: string[], input = '') => runBinary('helm', args, input);

// biome-ignore lint/suspicious/noExplicitAny: rendered Kubernetes objects are checked field by field
export type Obj = any;

/** `helm template` of the chart as release "hg" with `values` (JSON is YAML). Never throws. */
export const templateChart = (values: object, namespace = 'hookgate-system') =>
  helm(
    ['template', 'hg', CHART, '-n', namespace, '--kube-version', '1.35.0', '-f', '-'],
    JSON.stringify(values),
  );

/** The one object of `kind` named `name` among `objs`: none or more fails the test. */
export function findOne(objs: Obj[], kind: string, name: string): Obj {
  const found = objs.filter((o) => o.kind === kind && o.metadata.name === name);
  expect(found, `${kind} ${name}`).toHaveLength(1);
  return found[0];
}

/** The documents `templateChart` renders; throws with helm's message. */
export async function renderValues(values: object = {}, namespace?: string): Promise<Obj[]> {
  const r = await templateChart(values, namespace);
  if (r.code !== 0) throw new Error(r.stderr);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS())
    .filter(Boolean);
}

/** `helm template` of the chart (release "hookgate" in "hookgate-system"): the documents of `showOnly`. */
export async function renderChart(showOnly: string, set: string[] = []): Promise<Record<string, unknown>[]> {
  const r = await runBinary('helm', [
    ...['template', 'hookgate', join(ROOT, 'charts/hookgate'), '--namespace', 'hookgate-system'],
    ...['--kube-version', 'v1.35.4', ...set.flatMap((s) => ['--set', s]), '--show-only', showOnly],
  ]);
  if (r.code !== 0) throw new Error(`helm template: ${r.stderr}`);
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as Record<string, unknown>);
}
