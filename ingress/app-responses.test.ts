// The ingress app's answers to accepted deliveries (over app.inject, setup in app.test-helper.ts):
// duplicates, the trigger's own status code and headers, and wait mode.
import { describe, expect, it } from 'vitest';
import { closeApps, post, setup } from './app.test-helper.ts';
import { sample } from './http/fakes.test-helper.ts';

closeApps();

describe('duplicates and responses', () => {
  it('200 with the same run and duplicate: true for a repeated delivery, starting nothing', async () => {
    const { app, launcher, registry } = setup();
    const first = await post(app, { headers: { 'idempotency-key': 'same' } });
    const again = await post(app, { headers: { 'idempotency-key': 'same' } });
    expect(first.statusCode).toBe(202);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ run: first.json().run, duplicate: true });
    expect(launcher.runs.size).toBe(1);
    const trigger = { trigger: 'team-a/deploy' };
    expect(await sample(registry, 'hookgate_ingress_runs_started_total', trigger)).toBe(1);
    expect(await sample(registry, 'hookgate_ingress_duplicates_total', trigger)).toBe(1);
    expect(
      await sample(registry, 'hookgate_ingress_requests_total', { ...trigger, outcome: 'duplicate' }),
    ).toBe(1);
  });

  it("uses the trigger's status code and headers, keeping 200 for duplicates and HTTP framing intact", async () => {
    const { app } = setup({
      response: { statusCode: 201, headers: { 'X-Run-Source': 'hookgate', 'Content-Length': '1' } },
    });
    const first = await post(app, { headers: { 'idempotency-key': 'x' } });
    expect(first.statusCode).toBe(201);
    expect(first.headers['x-run-source']).toBe('hookgate');
    expect(first.json().run).toEqual(expect.any(String)); // Content-Length was not taken from the route
    const again = await post(app, { headers: { 'idempotency-key': 'x' } });
    expect(again.statusCode).toBe(200);
    expect(again.headers['x-run-source']).toBe('hookgate');
  });
});

describe('wait mode', () => {
  const wait = { response: { mode: 'wait' as const, timeoutSeconds: 1, includeOutput: true } };

  it("200 with the run's result, exit code and termination message", async () => {
    const { app, launcher } = setup(wait);
    launcher.autoFinish = { result: 'Succeeded', exitCode: 0, message: 'deployed v2' };
    const res = await post(app);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      run: expect.any(String),
      result: 'Succeeded',
      exitCode: 0,
      output: 'deployed v2',
    });
  });

  it('200 with result Failed for a failed run: the delivery itself was accepted', async () => {
    const { app, launcher } = setup(wait);
    launcher.autoFinish = { result: 'Failed', exitCode: 3, message: 'boom' };
    const res = await post(app);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ result: 'Failed', exitCode: 3, output: 'boom' });
  });

  it('a run finishing while the sender waits', async () => {
    const { app, launcher } = setup(wait);
    const pending = post(app, { headers: { 'idempotency-key': 'w' } });
    // The run exists once the request has passed every stage: wait for that, not for a fixed time.
    while (launcher.runs.size === 0) await new Promise((r) => setTimeout(r, 5));
    const [run] = [...launcher.runs.keys()];
    launcher.finish(run!, { result: 'Succeeded', exitCode: 0 });
    expect((await pending).json()).toMatchObject({ run, result: 'Succeeded' });
  });

  it('504 with the run id at the timeout', async () => {
    const { app, launcher, registry } = setup(wait);
    const res = await post(app);
    expect(res.statusCode).toBe(504);
    const [run] = [...launcher.runs.keys()];
    expect(res.json()).toEqual({ error: { code: 'run_timeout', message: expect.any(String) }, run });
    expect(await sample(registry, 'hookgate_ingress_requests_total', { outcome: 'run_timeout' })).toBe(1);
  });
});
