// Credentials of senders that cannot sign, end to end through the real operator and ingress (under
// the chart's RBAC and admission policies), with a short rotation grace: HTTP Basic and a URL token
// keep working through a rotation's overlap and stop after it; a body secret is checked and kept out
// of the run's input; the CLI sends with each; and Asana's secret is captured once, under the
// admission policy that lets the ingress create nothing else in its namespace.
import { createHmac } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CliError, main } from '../cli/hookgate.ts';
import { captureSecret } from '../lib/capture.ts';
import { RELEASE } from './harness/index.ts';
import { kubeConfig, kubectl, secretsLabelled, waitFor } from './helpers.ts';
import { triggerObject, useServedTenant, workflowObject } from './objects.test-helper.ts';

const GRACE_MS = 8_000;
const app = useServedTenant('creds', () => ({ operatorArgs: [`--rotation-grace=${GRACE_MS / 1000}s`] }));
const { system } = app;

const trigger = (name: string, auth: object) => triggerObject(name, 'run', { spec: { auth } });

beforeAll(async () => {
  const objects = [
    workflowObject('run'),
    trigger('basic', { basic: {} }),
    trigger('registry', { provider: 'docker-hub' }),
    trigger('graph', { provider: 'microsoft-graph' }),
    trigger('asana', { provider: 'asana' }),
  ];
  await app.apply(...objects);
}, 120_000);

const { url } = app;
const credentials = (name: string) => app.secret(`${name}-credentials`);
const until = <T>(what: string, fn: () => Promise<T>) => waitFor(fn, { what, timeoutMs: 60_000 });

const post = (target: string, headers: Record<string, string> = {}, body = '{"alerts":[]}') =>
  fetch(target, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

/** The CLI in-process, as test/cli.test.ts runs it. */
async function cli(...argv: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  try {
    return { code: await main(argv, { out: (l) => out.push(l), kubeConfig: kubeConfig() }), out };
  } catch (err) {
    if (err instanceof CliError) return { code: err.exitCode, out: [...out, err.message] };
    throw err;
  }
}

/** Rotates `name` and waits until the previous values moved; returns when they stop being valid. */
async function rotate(name: string, previousKey: string): Promise<{ validUntil: number }> {
  const before = await credentials(name);
  expect((await cli('rotate', name, '-n', app.name)).code).toBe(0);
  const after = await until(`${name} rotated`, async () => {
    const c = await credentials(name);
    return c[previousKey] !== undefined && c[previousKey] !== before[previousKey] && c;
  });
  return { validUntil: Date.parse(after.previousValidUntil!) };
}

/** Until the ingress sees the new credential (the route follows the Secret): a status from `send`. */
const accepted = (what: string, send: () => Promise<Response>) =>
  until(what, async () => (await send()).status === 202);

const sleepUntil = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms - Date.now())));

describe('HTTP Basic', () => {
  it('works with the generated user and password, through a rotation overlap, and stops after it', async () => {
    const old = await until('basic credentials', async () => {
      const c = await credentials('basic');
      return c.username ? c : undefined;
    });
    await accepted('basic served', () => post(url('basic'), basic(old.username!, old.password!)));
    const refused = await post(url('basic'), basic(old.username!, 'wrong'));
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Basic realm="hookgate"');
    expect((await cli('send', 'basic', '-n', app.name, '--data', '{"from":"cli"}')).code).toBe(0);

    const { validUntil } = await rotate('basic', 'previousPassword');
    const fresh = await credentials('basic');
    expect(fresh.password).not.toBe(old.password);
    await accepted('the new Basic credential', () =>
      post(url('basic'), basic(fresh.username!, fresh.password!)),
    );
    expect((await post(url('basic'), basic(old.username!, old.password!))).status).toBe(202);
    await sleepUntil(validUntil + 500);
    expect((await post(url('basic'), basic(old.username!, old.password!))).status).toBe(401);
    expect((await post(url('basic'), basic(fresh.username!, fresh.password!))).status).toBe(202);
  });
});

describe('a token in the URL (docker-hub)', () => {
  it('works at <url>/<token> through a rotation overlap and stops after it; status names only its key', async () => {
    const t = await until('registry Ready', async () => {
      const t = await app.trigger('registry');
      return t.status?.urlTokenRef && t;
    });
    expect(t.status!.urlTokenRef).toEqual({ name: 'registry-credentials', key: 'urlToken' });
    const old = (await credentials('registry')).urlToken!;
    expect(JSON.stringify(t.status)).not.toContain(old);
    const printed = await cli('url', 'registry', '-n', app.name, '--with-token');
    expect(printed).toEqual({ code: 0, out: [`${url('registry')}/${old}`] });
    expect((await cli('url', 'registry', '-n', app.name)).out).toEqual([url('registry')]);
    await accepted('registry served', () => post(`${url('registry')}/${old}`));
    expect((await post(url('registry'))).status).toBe(401);
    expect((await cli('send', 'registry', '-n', app.name)).code).toBe(0);

    const { validUntil } = await rotate('registry', 'previousUrlToken');
    const fresh = (await credentials('registry')).urlToken!;
    await accepted('the new URL token', () => post(`${url('registry')}/${fresh}`));
    expect((await post(`${url('registry')}/${old}`)).status).toBe(202);
    await sleepUntil(validUntil + 500);
    expect((await post(`${url('registry')}/${old}`)).status).toBe(401);
    expect((await post(`${url('registry')}/${fresh}`)).status).toBe(202);

    const logs = await app.hg.ingress.logs();
    expect(logs).not.toContain(old.slice(4));
    expect(await (await fetch(app.hg.metricsUrl)).text()).not.toContain(old.slice(4));
  });
});

describe('a secret in a body field (microsoft-graph clientState)', () => {
  it('every notification must carry it; it never reaches the run input', async () => {
    const state = await until('graph clientState', async () => (await credentials('graph')).bodySecret);
    const body = (s: string) =>
      JSON.stringify({ value: [{ changeType: 'created', clientState: s, resource: 'x' }] });
    await accepted('graph served', () => post(url('graph'), {}, body(state)));
    expect((await post(url('graph'), {}, body('guess'))).status).toBe(401);
    expect(
      (await cli('send', 'graph', '-n', app.name, '--data', '{"value":[{"changeType":"updated"}]}')).code,
    ).toBe(0);
    const inputs = await kubectl([
      'get',
      'secrets',
      '-n',
      app.name,
      '-l',
      'hookgate.io/trigger=graph,hookgate.io/delivery',
      '-o',
      'json',
    ]);
    const items = JSON.parse(inputs.stdout).items as { data: Record<string, string> }[];
    expect(items.length).toBeGreaterThanOrEqual(2);
    for (const s of items) {
      const input = Buffer.from(s.data['input.json']!, 'base64').toString();
      expect(input).toContain('changeType');
      expect(input).not.toContain(state);
    }
  });
});

describe("Asana's X-Hook-Secret, captured once", () => {
  const ingressAs = `--as=system:serviceaccount:${system}:${RELEASE}-ingress`;
  const hmacHex = (key: string, body: string) => createHmac('sha256', key).update(body).digest('hex');

  it('is echoed, taken into the credentials Secret, verifies deliveries, and waits again after a rotation', async () => {
    await until(
      'asana waiting',
      async () => (await app.trigger('asana')).status?.secretCapture?.state === 'Waiting',
    );
    const hook = (secret: string) =>
      fetch(url('asana'), { method: 'POST', headers: { 'x-hook-secret': secret } });
    const first = 'b537207f20cbfa02357cf448134da559';
    const res = await until('the handshake answered', async () => {
      const r = await hook(first);
      return r.status !== 404 && r;
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-hook-secret')).toBe(first);
    await until(
      'captured',
      async () => (await app.trigger('asana')).status?.secretCapture?.state === 'Captured',
    );
    expect((await credentials('asana')).signingSecret).toBe(first);
    // The capture Secret was moved, not left behind in the ingress's namespace.
    await until(
      'capture Secret deleted',
      async () => (await secretsLabelled(system, 'hookgate.io/capture=true')).length === 0,
    );
    const second = await until('the route stops waiting', async () => {
      const r = await hook('attackers-secret-00000000000000');
      return r.status === 403 && r;
    });
    expect(second.headers.get('x-hook-secret')).toBeNull();
    expect((await credentials('asana')).signingSecret).toBe(first);

    const body = '{"events":[{"action":"changed","resource":{"gid":"1"}}]}';
    const delivery = await post(url('asana'), { 'x-hook-signature': hmacHex(first, body) }, body);
    expect(delivery.status).toBe(202);
    expect((await post(url('asana'), { 'x-hook-signature': hmacHex('guess', body) }, body)).status).toBe(401);

    // A rotation: the captured secret stays valid through the overlap, and a new handshake is taken.
    const { validUntil } = await rotate('asana', 'previousSigningSecret');
    await until(
      'waiting again',
      async () => (await app.trigger('asana')).status?.secretCapture?.state === 'Waiting',
    );
    const next = 'c648318a31dcab13468dfa59245eb660';
    const again = await until('a new handshake taken', async () => {
      const r = await hook(next);
      return r.status === 200 && r;
    });
    expect(again.headers.get('x-hook-secret')).toBe(next);
    await until('the new secret captured', async () => (await credentials('asana')).signingSecret === next);
    const body2 = '{"events":[{"action":"added","resource":{"gid":"2"}}]}';
    await accepted('the new secret verifies', () =>
      post(url('asana'), { 'x-hook-signature': hmacHex(next, body2) }, body2),
    );
    const body3 = '{"events":[{"action":"removed","resource":{"gid":"3"}}]}';
    expect((await post(url('asana'), { 'x-hook-signature': hmacHex(first, body3) }, body3)).status).toBe(202);
    await sleepUntil(validUntil + 500);
    const body4 = '{"events":[{"action":"deleted","resource":{"gid":"4"}}]}';
    expect((await post(url('asana'), { 'x-hook-signature': hmacHex(first, body4) }, body4)).status).toBe(401);
  });

  it('the ingress may create a capture in its namespace and no other Secret there, nor read or change one', async () => {
    const apply = (obj: object) =>
      kubectl(['create', '-n', system, '-f', '-', ingressAs], { input: JSON.stringify(obj) });
    // A capture for a trigger that does not exist: allowed to the ingress, then dropped by the operator.
    const capture = captureSecret(
      { namespace: app.name, name: 'no-such-trigger', uid: 'u-x' },
      system,
      'a-secret',
    );
    const name = capture.metadata!.name!;
    expect((await apply(capture)).stderr).toBe('');
    for (const args of [
      ['get', 'secret', name],
      ['delete', 'secret', name],
      ['label', 'secret', name, 'x=y'],
    ]) {
      const r = await kubectl([...args, '-n', system, ingressAs]);
      expect(r.stderr, args.join(' ')).toContain('forbidden');
    }
    await until('the stale capture dropped', async () => {
      const r = await kubectl(['get', 'secret', name, '-n', system, '--ignore-not-found', '-o', 'name']);
      return r.code === 0 && r.stdout.trim() === '';
    });
    const policy = `ValidatingAdmissionPolicy 'hookgate-runs-${system}'`;
    const shapes = [
      { ...capture, metadata: { ...capture.metadata, name: 'not-a-capture' } },
      {
        ...capture,
        metadata: { ...capture.metadata, name: `${name}x` },
        data: { ...capture.data, more: 'eA==' },
      },
      { ...capture, metadata: { ...capture.metadata, name: `${name}y`, labels: {} } },
      {
        ...capture,
        metadata: { ...capture.metadata, name: `${name}z` },
        data: { secret: Buffer.alloc(2048).toString('base64') },
      },
    ];
    for (const obj of shapes) {
      const r = await apply(obj);
      expect(r.stderr, JSON.stringify(obj.metadata)).toContain(policy);
    }
    // Runs stay out of its own namespace.
    const job = await kubectl([
      'create',
      'job',
      'probe',
      '--image=busybox',
      '-n',
      system,
      '--dry-run=server',
      ingressAs,
    ]);
    expect(job.stderr).toContain('no runs in namespace');
  });
});
