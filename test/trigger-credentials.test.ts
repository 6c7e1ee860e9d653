// Credentials a tenant can trust (issue 20), through the operator and the ingress running as the
// chart runs them: a leaked credential revoked at once (`hookgate rotate --revoke`), and a referenced
// secret too short to be one refused, with a reason that names no value.
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { Annotations, ConditionType, Reason, type WebhookTrigger } from '../api/v1alpha1/index.ts';
import { main } from '../cli/hookgate.ts';
import { kubeConfig, kubectl, waitFor } from './helpers.ts';
import { triggerObject, useServedTenant, workflowObject } from './objects.test-helper.ts';

const app = useServedTenant('creds');

const ready = (t: WebhookTrigger) => t.status?.conditions?.find((c) => c.type === ConditionType.Ready);

const post = async (name: string, token: string) =>
  (
    await fetch(app.url(name), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    })
  ).status;

beforeAll(async () => {
  const trigger = (name: string, auth: object) => triggerObject(name, 'build', { spec: { auth } });
  const shortSecret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'short' },
    stringData: { token: 'letmein' },
  };
  await app.apply(
    workflowObject('build'),
    shortSecret,
    trigger('leaky', { bearer: {} }),
    trigger('weak', { bearer: { secretRef: { name: 'short', key: 'token' } } }),
  );
});

describe('a leaked credential', () => {
  it('is refused as soon as it is revoked, with no grace period; the new one works', async () => {
    await app.settled('leaky', (t) => ready(t)?.status === 'True', 'leaky Ready');
    const leaked = await app.credential('leaky');
    await waitFor(async () => (await post('leaky', leaked)) === 202, { what: 'the token accepted' });

    const out: string[] = [];
    const code = await main(['rotate', 'leaky', '--revoke', '-n', app.name], {
      out: (l) => out.push(l),
      kubeConfig: kubeConfig(),
    });
    expect(code).toBe(0);
    expect(out[0]).toContain(`revocation requested for ${app.name}/leaky`);
    expect((await app.trigger('leaky')).metadata.annotations?.[Annotations.revoke]).toBeDefined();

    const fresh = await waitFor(async () => {
      const t = await app.credential('leaky');
      return t !== leaked && t;
    });
    await waitFor(async () => (await post('leaky', leaked)) === 401, {
      what: 'the leaked token refused',
      timeoutMs: 10_000,
    });
    expect(await post('leaky', fresh)).toBe(202);
    const t = await app.trigger('leaky');
    expect(t.status?.previousCredentialsValidUntil).toBeUndefined();
    const events = await kubectl([
      'get',
      'events',
      '-n',
      app.name,
      '--field-selector=reason=CredentialsRevoked',
      '-o',
      'name',
    ]);
    expect(events.stdout.trim()).not.toBe('');
  });
});

describe('a referenced secret shorter than 16 bytes', () => {
  it('is refused: Stalled with a reason naming no value; its URL answers 503; a longer one is Ready', async () => {
    const t = await app.settled(
      'weak',
      (w) => ready(w)?.reason === Reason.SecretTooShort,
      'weak SecretTooShort',
    );
    expect(ready(t)?.status).toBe('False');
    expect(t.status?.conditions?.find((c) => c.type === ConditionType.Stalled)?.status).toBe('True');
    expect(ready(t)?.message).toContain('Secret short key "token" holds fewer than 16 bytes');
    expect(JSON.stringify(t.status)).not.toContain('letmein');
    const answer = await waitFor(async () => {
      const r = await fetch(app.url('weak'), { method: 'POST', body: '{}' });
      return r.status === 503 && r;
    });
    expect(answer.headers.get('retry-after')).not.toBeNull();
    expect(await answer.text()).not.toContain('letmein');

    const strong = randomBytes(24).toString('hex');
    await kubectl([
      'patch',
      'secret',
      '-n',
      app.name,
      'short',
      '-p',
      JSON.stringify({ stringData: { token: strong } }),
    ]);
    await app.settled('weak', (w) => ready(w)?.status === 'True', 'weak Ready');
    await waitFor(async () => (await post('weak', strong)) === 202, { what: 'the strong token accepted' });
  });
});
