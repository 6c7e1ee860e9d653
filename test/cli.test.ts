// The `hookgate` CLI against the operator and ingress running together: it reads the trigger and
// its credentials through the admin kubeconfig, and sends real requests to the ingress.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { Annotations, Labels, type Route } from '../api/v1alpha1/index.ts';
import { CliError, main } from '../cli/hookgate.ts';
import { verify } from '../ingress/verify/index.ts';
import { kubeConfig, kubectl, waitFor } from './helpers.ts';
import { triggerObject, useServedTenant, workflowObject } from './objects.test-helper.ts';

const app = useServedTenant('cli');

beforeAll(async () => {
  await app.apply(
    workflowObject('deploy'),
    triggerObject('deploy-hook', 'deploy', {
      spec: { auth: { bearer: {}, signature: { scheme: 'hmac-sha256', prefix: 'sha256=' } } },
    }),
  );
  await app.ready('deploy-hook');
  // The ingress serves the route once an unsigned request is refused rather than unknown (404).
  await waitFor(async () => (await fetch(app.url('deploy-hook'), { method: 'POST' })).status === 401, {
    what: 'the ingress serving deploy-hook',
  });
});

/** Runs the CLI in-process; a thrown CliError becomes its exit code, like bin/hookgate.js does. */
async function cli(...argv: string[]): Promise<{ code: number; out: string[]; error?: string }> {
  const out: string[] = [];
  try {
    const code = await main(argv, { out: (line) => out.push(line), kubeConfig: kubeConfig() });
    return { code, out };
  } catch (err) {
    if (err instanceof CliError) return { code: err.exitCode, out, error: err.message };
    throw err;
  }
}
/** The CLI on a trigger (or Workflow) `name` in the app's namespace. */
const cliOn = (command: string, name: string, ...args: string[]) =>
  cli(command, name, '-n', app.name, ...args);

describe('hookgate CLI', () => {
  it('url prints the trigger URL', async () => {
    const r = await cliOn('url', 'deploy-hook');
    expect(r).toEqual({ code: 0, out: [app.url('deploy-hook')] });
  });

  it('sign prints headers that verify against the trigger credentials', async () => {
    const body = '{"ref":"v1.2.3"}';
    const now = Date.now();
    const r = await cliOn('sign', 'deploy-hook', '--data', body);
    expect(r.code).toBe(0);
    const headers: Record<string, string> = {};
    for (const line of r.out) {
      const m = /^-H '([^:]+): (.*)'$/.exec(line);
      expect(m, line).not.toBeNull();
      headers[m![1]!.toLowerCase()] = m![2]!;
    }
    expect(headers['content-type']).toBe('application/json');
    expect(headers.authorization).toMatch(/^Bearer hgt_/);
    expect(headers['x-webhook-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);

    const creds = await app.secret('deploy-hook-credentials');
    const auth: Route['auth'] = {
      tokens: [{ value: creds.token! }],
      signature: { scheme: 'hmac-sha256', prefix: 'sha256=', secrets: [{ value: creds.signingSecret! }] },
    };
    expect(verify(auth, { headers, body: Buffer.from(body) }, now)).toMatchObject({ ok: true });
    // And the headers are bound to the body.
    expect(verify(auth, { headers, body: Buffer.from('{"ref":"v9"}') }, now).ok).toBe(false);
  });

  it('send signs and delivers: 202, exit 0, and the run exists', async () => {
    const r = await cliOn('send', 'deploy-hook', '--data', '{"ref":"v1"}', '--id', randomUUID());
    expect(r.out[0]).toMatch(/^202\b/);
    expect(r.code).toBe(0);
    const answer = JSON.parse(r.out[1]!);
    expect(answer).toMatchObject({ accepted: true, trigger: 'deploy-hook', workflow: 'deploy' });
    const job = await kubectl(['get', 'job', '-n', app.name, answer.run, '-o', 'json']);
    expect(job.code, job.stderr).toBe(0);
    expect(JSON.parse(job.stdout).metadata.labels[Labels.trigger]).toBe('deploy-hook');
  });

  it('send to a trigger that does not exist is a clear error with exit 1', async () => {
    const r = await cliOn('send', 'no-such-hook');
    expect(r.code).toBe(1);
    expect(r.error).toBe(`WebhookTrigger ${app.name}/no-such-hook not found`);
  });

  it('send with a non-2xx answer exits 1', async () => {
    const r = await cliOn('send', 'deploy-hook', '--url', app.url('missing'));
    expect(r.code).toBe(1);
    expect(r.out[0]).toMatch(/^404\b/);
  });

  it('runs lists the run with its trigger', async () => {
    const sent = await cliOn('send', 'deploy-hook', '--data', '{"ref":"v2"}');
    expect(sent.code).toBe(0);
    const run = JSON.parse(sent.out[1]!).run as string;
    const r = await cliOn('runs', 'deploy');
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^RUN\s+TRIGGER\s+STATUS\s+STARTED\s+DURATION$/);
    const row = r.out.find((line) => line.startsWith(`${run} `));
    expect(row, r.out.join('\n')).toBeDefined();
    expect(row).toMatch(/\bdeploy-hook\b/);
    expect(row).toMatch(/\b(Running|Succeeded|Failed)\b/);
  });

  it('rotate sets the rotate annotation and the operator rotates', async () => {
    const before = await app.trigger('deploy-hook');
    const r = await cliOn('rotate', 'deploy-hook');
    expect(r.code).toBe(0);
    expect(r.out[0]).toContain(`rotation requested for ${app.name}/deploy-hook`);
    const after = await app.trigger('deploy-hook');
    const value = after.metadata.annotations?.[Annotations.rotate];
    expect(value).toBeDefined();
    expect(value).not.toBe(before.metadata.annotations?.[Annotations.rotate]);
    await waitFor(async () => (await app.trigger('deploy-hook')).status?.previousCredentialsValidUntil, {
      what: 'the rotation handled',
    });
  });

  it('rotate of an unknown trigger fails with exit 1', async () => {
    const r = await cliOn('rotate', 'no-such-hook');
    expect(r).toMatchObject({ code: 1, error: `WebhookTrigger ${app.name}/no-such-hook not found` });
  });

  it.each(['url', 'sign', 'send', 'runs', 'rotate'])('%s --help', async (command) => {
    const r = await cli(command, '--help');
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toMatch(new RegExp(`^Usage: hookgate ${command}\\b`));
  });

  it('--help alone prints the command list', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    for (const c of ['url', 'sign', 'send', 'runs', 'rotate']) expect(r.out[0]).toContain(`  ${c} <`);
  });

  it('an unknown command exits 2', async () => {
    const r = await cli('frobnicate');
    expect(r.code).toBe(2);
    expect(r.error).toBe('unknown command "frobnicate"');
  });

  it('a command without its name exits 2', async () => {
    const r = await cli('url');
    expect(r.code).toBe(2);
  });
});
