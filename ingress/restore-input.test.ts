// What a repeat of a delivery may restore when the first attempt made the Job but not its input
// (issue 20): the signed mapping only, never what the repeat's request carries unsigned.
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { buildRun, INPUT_KEY } from '../lib/run.ts';
import { buildApp } from './app.ts';
import { MemoryLauncher, MemoryRoutes, TOKEN, testRoute } from './http/fakes.test-helper.ts';

const apps: ReturnType<typeof buildApp>[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function deliver(input: object) {
  const launcher = new MemoryLauncher();
  const app = buildApp({
    routes: new MemoryRoutes([testRoute({ input: { defaults: { env: 'prod' }, ...input } })]),
    launcher,
    registry: new Registry(),
    logger: pino({ level: 'silent' }),
  });
  apps.push(app);
  const res = await app.inject({
    method: 'POST',
    url: '/hooks/team-a/deploy?branch=evil',
    payload: '{"ref":"main"}',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${TOKEN}`,
      'x-github-event': 'push',
    },
  });
  expect(res.statusCode).toBe(202);
  return launcher.deliveries[0]!;
}

const decoded = (secret: { data?: Record<string, string> } | undefined) =>
  JSON.parse(Buffer.from(secret!.data![INPUT_KEY]!, 'base64').toString());

describe('the input a repeat may restore', () => {
  it('maps the signed payload and defaults, with the unsigned query and headers left empty', async () => {
    const d = await deliver({ query: true, headers: ['X-GitHub-Event'] });
    expect(d.input).toEqual({
      env: 'prod',
      ref: 'main',
      _query: { branch: 'evil' },
      _headers: { 'x-github-event': 'push' },
    });
    expect(d.restoreInput).toEqual({ env: 'prod', ref: 'main', _query: {}, _headers: {} });
    const run = buildRun(d);
    expect(decoded(run.inputSecret('u'))).toEqual(d.input);
    expect(decoded(run.restoredInputSecret('u'))).toEqual(d.restoreInput);
    expect(run.restoredInputSecret('u')!.metadata).toEqual(run.inputSecret('u').metadata);
  });

  it('is the input itself where nothing unsigned is mapped', async () => {
    const d = await deliver({ query: false });
    expect(d).not.toHaveProperty('restoreInput');
    expect(decoded(buildRun(d).restoredInputSecret('u'))).toEqual({ env: 'prod', ref: 'main' });
  });
});
