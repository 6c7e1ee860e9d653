// What a failed request leaves in the log (issue 20): a 5xx logs the error, never the body of an API
// server's answer, which may hold an object's data (a Job's env, a Secret's value echoed back).
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../lib/api-error.ts';
import { buildApp } from './app.ts';
import { MemoryLauncher, MemoryRoutes, TOKEN, testRoute } from './http/fakes.test-helper.ts';
import { ApiUnavailableError, JobRejectedError } from './types.ts';

const apps: ReturnType<typeof buildApp>[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

const BODY = JSON.stringify({
  kind: 'Status',
  message: 'Internal error occurred',
  details: { causes: [{ message: 'input.json: eyJjYXJkIjoiNDI0MiJ9 (customer data)' }] },
});

async function failWith(error: Error) {
  const launcher = new MemoryLauncher();
  launcher.failNext = error;
  const lines: string[] = [];
  const app = buildApp({
    routes: new MemoryRoutes([testRoute()]),
    launcher,
    registry: new Registry(),
    logger: pino({ level: 'info' }, { write: (l: string) => lines.push(l) }),
  });
  apps.push(app);
  const res = await app.inject({
    method: 'POST',
    url: '/hooks/team-a/deploy',
    payload: '{}',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
  });
  return { status: res.statusCode, log: lines.join('') };
}

describe('a 5xx log line', () => {
  it.each([
    ['an API error itself (500)', () => new ApiError(500, 'create Job team-a/x', BODY), 500],
    [
      'an API error as the cause (503)',
      () =>
        new ApiUnavailableError('API server unavailable', { cause: new ApiError(503, 'create Job', BODY) }),
      503,
    ],
    [
      'a refused Job (503 run_rejected)',
      () => new JobRejectedError('refused', { cause: new ApiError(403, 'create Job', BODY) }),
      503,
    ],
  ])('logs %s without the API server’s answer', async (_what, error, status) => {
    const r = await failWith(error());
    expect(r.status).toBe(status);
    expect(r.log).toContain('webhook request failed');
    expect(r.log).not.toContain('eyJjYXJkIjoiNDI0MiJ9');
    expect(r.log).not.toContain('customer data');
  });

  it('the body stays readable to the code that maps the error', () => {
    expect(new ApiError(404, 'get', BODY).body).toBe(BODY);
    expect(JSON.stringify(new ApiError(404, 'get', BODY))).not.toContain('customer data');
  });
});
