// The chart's aggregated ClusterRoles against the real API server: kube-controller-manager folds
// them into the built-in view, edit and admin roles, and users bound only to those roles can then
// read (view) or write (edit, admin) Workflows and WebhookTriggers, never their status, and gain
// no access to Secrets.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { kubectl, runBinary, useNamespace, waitFor } from './helpers.ts';

const CHART = fileURLToPath(new URL('../charts/hookgate', import.meta.url));
const ns = useNamespace('aggregated');
const other = useNamespace('aggregated-other');
const RELEASE = `agg${Math.random().toString(16).slice(2, 8)}`;
let manifests = '';

// biome-ignore lint/suspicious/noExplicitAny: rendered objects are read field by field
type Obj = any;

beforeAll(async () => {
  const r = await runBinary('helm', [
    ...['template', RELEASE, CHART, '-n', 'hookgate-system', '--kube-version', '1.35.0'],
    ...['--show-only', 'templates/aggregated-roles.yaml'],
  ]);
  expect(r.code, r.stderr).toBe(0);
  manifests = r.stdout;
  const applied = await kubectl(['apply', '-f', '-'], { input: manifests });
  expect(applied.code, applied.stderr).toBe(0);
  for (const role of ['view', 'edit', 'admin']) {
    const bind = await kubectl([
      ...['create', 'rolebinding', `${role}-user`, '-n', ns.name],
      ...[`--clusterrole=${role}`, `--user=${user(role)}`],
    ]);
    expect(bind.code, bind.stderr).toBe(0);
  }
  // The aggregation controller copies the rules into the built-in roles a moment later.
  for (const role of ['view', 'edit', 'admin'])
    await waitFor(
      async () => {
        const got = await kubectl(['get', 'clusterrole', role, '-o', 'json']);
        return JSON.stringify(JSON.parse(got.stdout).rules).includes('webhooktriggers');
      },
      { what: `hookgate's rules in ClusterRole ${role}` },
    );
});
afterAll(async () => {
  await kubectl(['delete', '--ignore-not-found', '-f', '-'], { input: manifests });
});

const user = (role: string) => `${RELEASE}-${role}-user`;
const can = async (role: string, verb: string, resource: string, namespace = ns.name, subresource = '') => {
  const sub = subresource ? [`--subresource=${subresource}`] : [];
  const r = await kubectl(['auth', 'can-i', verb, resource, ...sub, '-n', namespace, `--as=${user(role)}`]);
  return r.stdout.trim() === 'yes';
};

const RESOURCES = ['workflows.hookgate.io', 'webhooktriggers.hookgate.io'];
const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'update', 'patch', 'delete', 'deletecollection'];

describe('the rendered roles', () => {
  it('grant only hookgate.io resources, by name, and never Secrets', () => {
    const roles = parseAllDocuments(manifests).map((d) => d.toJS() as Obj);
    expect(roles.map((r) => r.metadata.name)).toEqual([
      `${RELEASE}-hookgate-view`,
      `${RELEASE}-hookgate-edit`,
    ]);
    for (const rule of roles.flatMap((r) => r.rules)) {
      expect(rule.apiGroups).toEqual(['hookgate.io']);
      expect(rule.resources.join()).not.toMatch(/\*|secret/);
      expect(rule.verbs).not.toContain('*');
    }
  });
});

describe.each(['view', 'edit', 'admin'])('a user bound only to the built-in %s role', (role) => {
  const writes = role !== 'view';

  it(`reads${writes ? ' and writes' : ''} Workflows and WebhookTriggers`, async () => {
    for (const resource of RESOURCES) {
      for (const verb of READ) expect(await can(role, verb, resource), `${verb} ${resource}`).toBe(true);
      for (const verb of WRITE) expect(await can(role, verb, resource), `${verb} ${resource}`).toBe(writes);
    }
  });

  it('reads their status but may not write it (the operator reports it)', async () => {
    for (const resource of RESOURCES) {
      expect(await can(role, 'get', resource, ns.name, 'status')).toBe(true);
      for (const verb of ['update', 'patch'])
        expect(await can(role, verb, resource, ns.name, 'status'), `${verb} ${resource}/status`).toBe(false);
    }
  });

  it('gets nothing in a namespace where it is not bound', async () => {
    expect(await can(role, 'list', 'webhooktriggers.hookgate.io', other.name)).toBe(false);
  });

  if (role === 'view')
    it('still cannot read Secrets: credentials stay hidden from viewers', async () => {
      expect(await can(role, 'get', 'secrets')).toBe(false);
      expect(await can(role, 'list', 'secrets')).toBe(false);
    });
});

describe('a user bound to nothing', () => {
  it('is refused', async () => {
    const r = await kubectl(['auth', 'can-i', 'list', 'workflows.hookgate.io', '-n', ns.name, '--as=nobody']);
    expect(r.stdout.trim()).toBe('no');
  });
});
