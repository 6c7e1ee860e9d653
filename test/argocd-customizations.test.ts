// hookgate's Argo CD resource customizations (deploy/argocd) on Argo CD's Lua engine: every
// health_test.yaml and action_test.yaml run as Argo CD's own tests run them (test/harness/tools/
// argocd-lua, gopher-lua without the standard libraries, as argocd-cm scripts run), and each action
// applied to a live WebhookTrigger as Argo CD's server applies it (a JSON merge patch of the script's
// answer), with the real operator and ingress answering for it.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { clusterInfo, kubectl, runBinary, useHookgate, useNamespace, waitFor } from './helpers.ts';
import { applyObjects, triggerObject, workflowObject } from './objects.test-helper.ts';

const ROOT = resolve(import.meta.dirname, '..');
const TREE = join(ROOT, 'deploy/argocd/resource_customizations');
const ACTIONS = join(TREE, 'hookgate.io/WebhookTrigger/actions');

// biome-ignore lint/suspicious/noExplicitAny: objects and tool output are read field by field
type Obj = any;

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('the resource_customizations tree on gopher-lua', () => {
  let results: Obj[];
  beforeAll(async () => {
    const r = await runBinary('argocd-lua', ['test', TREE]);
    expect(r.stderr).toBe('');
    results = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
  });

  it('passes every health, discovery and action test', () => {
    expect(results.filter((r) => !r.ok)).toEqual([]);
    const count = (what: string) => results.filter((r) => r.test.includes(what)).length;
    expect(count(': health of ')).toBe(13);
    expect(count(': discovery of ')).toBe(5);
    expect(count(': suspend of ') + count(': resume of ') + count(': rotate of ')).toBe(4);
  });

  it('reads every fixture, and tests every action', async () => {
    const referenced = new Set<string>();
    for (const f of await files(TREE)) {
      if (!f.endsWith('_test.yaml')) continue;
      const spec = parse(await readFile(f, 'utf8'));
      for (const t of [...(spec.tests ?? []), ...(spec.discoveryTests ?? []), ...(spec.actionTests ?? [])])
        for (const p of [t.inputPath, t.expectedOutputPath]) if (p) referenced.add(join(dirname(f), p));
    }
    const fixtures = (await files(TREE)).filter((f) => f.includes('/testdata/'));
    expect(fixtures.filter((f) => !referenced.has(f))).toEqual([]);
    const actions = (await readdir(ACTIONS, { withFileTypes: true }))
      .filter((d) => d.isDirectory() && d.name !== 'testdata')
      .map((d) => d.name);
    expect(actions.sort()).toEqual(['resume', 'rotate', 'suspend']);
    const tests = results.map((r) => r.test as string);
    for (const a of actions)
      expect(
        tests.some((t) => t.includes(`: ${a} of `)),
        a,
      ).toBe(true);
  });

  it('fails a script that gives the wrong verdict (the runner can fail)', async () => {
    const live = { apiVersion: 'hookgate.io/v1alpha1', kind: 'WebhookTrigger', metadata: { generation: 1 } };
    const wrong = join(clusterInfo().dir, 'wrong.lua');
    await writeFile(wrong, 'return { status = "Fine" }');
    const r = await runBinary('argocd-lua', ['health', wrong], JSON.stringify(live));
    expect(JSON.parse(r.stdout)).toEqual({
      status: 'Unknown',
      message: 'Lua returned an invalid health status',
    });
    // The standard string library is not there for argocd-cm scripts.
    await writeFile(wrong, 'return { status = string.upper("x") }');
    expect((await runBinary('argocd-lua', ['health', wrong], JSON.stringify(live))).code).not.toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------

const app = useNamespace('argocd-actions');
const running = useHookgate('argocd', () => ({ operatorArgs: [`--namespaces=${app.name}`] }));

beforeAll(async () => {
  await applyObjects(app.name, [
    workflowObject('deploy'),
    triggerObject('deploy', 'deploy', { spec: { auth: { bearer: {}, signature: { scheme: 'github' } } } }),
  ]);
  await until((t) => ready(t)?.reason === 'Succeeded');
}, 180_000);

async function live(): Promise<Obj> {
  const r = await kubectl(['get', 'webhooktriggers.hookgate.io', 'deploy', '-n', app.name, '-o', 'json']);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}
const ready = (t: Obj) => t.status?.conditions?.find((c: Obj) => c.type === 'Ready');
const until = (pred: (t: Obj) => unknown) =>
  waitFor(
    async () => {
      const t = await live();
      return t.status?.observedGeneration === t.metadata.generation && pred(t) ? t : undefined;
    },
    { what: 'the trigger' },
  );

/** What Argo CD does when a user runs `action` on the trigger: the script's merge patch, applied. */
async function runAction(action: string): Promise<Obj> {
  const r = await runBinary(
    'argocd-lua',
    ['action', join(ACTIONS, action, 'action.lua')],
    JSON.stringify(await live()),
  );
  expect(r.code, r.stderr).toBe(0);
  const [only, ...more] = JSON.parse(r.stdout);
  expect(more).toEqual([]);
  expect(only.operation).toBe('patch');
  expect(only.patch.status, 'an action must not touch status').toBeUndefined();
  const p = await kubectl([
    'patch',
    'webhooktriggers.hookgate.io',
    'deploy',
    '-n',
    app.name,
    '--type=merge',
    '-p',
    JSON.stringify(only.patch),
  ]);
  expect(p.code, p.stderr).toBe(0);
  return only.patch;
}

const offered = async () => {
  const r = await runBinary(
    'argocd-lua',
    ['discovery', join(ACTIONS, 'discovery.lua')],
    JSON.stringify(await live()),
  );
  expect(r.code, r.stderr).toBe(0);
  return Object.fromEntries(JSON.parse(r.stdout).map((a: Obj) => [a.name, !a.disabled]));
};

const post = () => fetch(`${running.hg.url}/hooks/${app.name}/deploy`, { method: 'POST', body: '{}' });

describe('the actions on a live WebhookTrigger', () => {
  it('suspend: the operator reports Suspended and the URL answers 403', async () => {
    expect(await offered()).toEqual({ suspend: true, resume: false, rotate: true });
    expect(await runAction('suspend')).toEqual({ spec: { suspend: true } });
    await until((t) => ready(t)?.reason === 'Suspended');
    await waitFor(async () => (await post()).status === 403, { what: 'the ingress to answer 403' });
    expect(await offered()).toEqual({ suspend: false, resume: true, rotate: true });
  });

  it('resume: Ready again, and the URL verifies deliveries again', async () => {
    expect(await runAction('resume')).toEqual({ spec: { suspend: false } });
    await until((t) => ready(t)?.reason === 'Succeeded');
    await waitFor(async () => (await post()).status === 401, {
      what: 'the ingress to verify (401 unsigned)',
    });
  });

  it('rotate: new credentials, the previous ones kept for the grace period', async () => {
    const secret = async () => {
      const r = await kubectl(['get', 'secret', 'deploy-credentials', '-n', app.name, '-o', 'json']);
      return JSON.parse(r.stdout).data as Record<string, string>;
    };
    const before = await secret();
    const patch = await runAction('rotate');
    expect(patch.metadata.annotations['hookgate.io/rotate']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const t = await until((o) => o.status?.lastRotationTime);
    expect(t.status.previousCredentialsValidUntil).toBeDefined();
    const after = await secret();
    expect(after.token).not.toBe(before.token);
    expect(after.signingSecret).not.toBe(before.signingSecret);
    expect(after.previousToken).toBe(before.token);
  });
});
