import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { buildRun, Env } from '../lib/run.ts';
import { buildApp } from './app.ts';
import { MemoryLauncher, MemoryRoutes, TOKEN, testRoute } from './http/fakes.test-helper.ts';
import { tracingRequested } from './tracing.ts';
import { exporterFromEnv, otelTracer } from './tracing-otel.ts';

const SENDER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SENDER_SPAN = '00f067aa0ba902b7';
const TRACEPARENT = `00-${SENDER_TRACE}-${SENDER_SPAN}-01`;

/** A route whose Workflow has a container, to see the env a run gets. */
const withContainer = () =>
  testRoute({
    workflow: {
      spec: {
        jobTemplate: { spec: { template: { spec: { containers: [{ name: 'main', image: 'busybox' }] } } } },
      },
    },
  });

const apps: ReturnType<typeof buildApp>[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

function setup() {
  const exporter = new InMemorySpanExporter();
  const launcher = new MemoryLauncher();
  const lines: Record<string, unknown>[] = [];
  const app = buildApp({
    routes: new MemoryRoutes([testRoute()]),
    launcher,
    registry: new Registry(),
    tracer: otelTracer([exporter], '1.2.3', true),
    logger: pino({ level: 'info' }, { write: (l: string) => lines.push(JSON.parse(l)) }),
  });
  apps.push(app);
  const deliver = (headers: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url: '/hooks/team-a/deploy',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers },
      payload: '{"a":1}',
    });
  return { exporter, launcher, lines, deliver };
}

describe('tracingRequested (off by default, the OTEL_* variables turn it on)', () => {
  it.each([
    [{}, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }, true],
    [{ OTEL_TRACES_EXPORTER: 'otlp' }, true],
    [{ OTEL_TRACES_EXPORTER: 'console' }, true],
    [{ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, false],
    [{ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' }, false],
  ])('%o → %s', (env, on) => {
    expect(tracingRequested(env)).toBe(on);
  });

  it('refuses exporters and protocols it does not have, saying so', async () => {
    await expect(exporterFromEnv({ OTEL_TRACES_EXPORTER: 'zipkin' })).rejects.toThrow(
      /zipkin is not supported/,
    );
    await expect(exporterFromEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).rejects.toThrow(
      /grpc is not supported/,
    );
    expect(await exporterFromEnv({ OTEL_TRACES_EXPORTER: 'otlp,console' })).toHaveLength(2);
  });
});

describe('a traced delivery', () => {
  it("continues the sender's trace, one span per stage, and hands the launch span's context to the run", async () => {
    const { exporter, launcher, lines, deliver } = setup();
    const res = await deliver({ traceparent: TRACEPARENT, tracestate: 'vendor=abc' });
    expect(res.statusCode).toBe(202);
    const spans = exporter.getFinishedSpans();
    const root = spans.find((s) => s.name === 'POST /hooks/{namespace}/{name}')!;
    expect(root.spanContext().traceId).toBe(SENDER_TRACE);
    expect(root.parentSpanContext?.spanId).toBe(SENDER_SPAN);
    expect(root.attributes).toMatchObject({
      'http.response.status_code': 202,
      'hookgate.trigger': 'team-a/deploy',
      'hookgate.outcome': 'accepted',
      'hookgate.run': res.json().run,
    });
    expect(root.resource.attributes['service.name']).toBe('hookgate-ingress');
    const stages = spans.filter((s) => s !== root);
    expect(stages.map((s) => s.name)).toEqual(['admit', 'read body', 'verify', 'map input', 'launch']);
    for (const s of stages) {
      expect(s.spanContext().traceId).toBe(SENDER_TRACE);
      expect(s.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    }
    const launchSpan = stages.at(-1)!.spanContext().spanId;
    expect(launcher.deliveries[0]!.trace).toEqual({
      traceparent: `00-${SENDER_TRACE}-${launchSpan}-01`,
      tracestate: 'vendor=abc',
    });
    const line = lines.find((l) => l.msg === 'webhook request')!;
    expect(line).toMatchObject({ trace_id: SENDER_TRACE, deliveryId: launcher.deliveries[0]!.deliveryId });
  });

  it('starts a trace of its own without a traceparent, or with one that is not W3C', async () => {
    const { exporter, launcher, deliver } = setup();
    await deliver();
    await deliver({ traceparent: '00-zzzz-$(SECRET)-01' });
    const roots = exporter.getFinishedSpans().filter((s) => s.name.startsWith('POST'));
    expect(roots).toHaveLength(2);
    for (const [i, root] of roots.entries()) {
      expect(root.parentSpanContext).toBeUndefined();
      expect(launcher.deliveries[i]!.trace!.traceparent).toMatch(
        new RegExp(`^00-${root.spanContext().traceId}-[0-9a-f]{16}-01$`),
      );
    }
  });

  it('never carries more than 512 characters of valid tracestate members into the run, escaped', async () => {
    const { launcher, deliver } = setup();
    const junk = [
      'good=$(SECRET)',
      'BAD KEY=1',
      'x=has,comma',
      ...Array.from({ length: 200 }, (_, i) => `k${i}=${'v'.repeat(40)}`),
    ].join(',');
    await deliver({ traceparent: TRACEPARENT, tracestate: junk });
    const state = launcher.deliveries[0]!.trace!.tracestate!;
    expect(state.length).toBeLessThanOrEqual(512);
    for (const member of state.split(',')) expect(member).toMatch(/^[a-z][_0-9a-z\-*/]*=[ -~]+$/);
    expect(state).toContain('good=$(SECRET)');
    expect(state).not.toContain('BAD KEY');

    const run = buildRun({ ...launcher.deliveries[0]!, route: withContainer() });
    const env = run.job.spec!.template.spec!.containers[0]!.env!;
    const value = (name: string) => env.find((e) => e.name === name)?.value;
    // The kubelet would expand $(SECRET) from an earlier variable: it reaches the container as sent.
    expect(value(Env.tracestate)).toContain('good=$$(SECRET)');
    expect(value(Env.traceparent)).toMatch(new RegExp(`^00-${SENDER_TRACE}-[0-9a-f]{16}-01$`));
    expect(run.job.metadata!.annotations!['hookgate.io/trace-id']).toBe(SENDER_TRACE);
    expect(run.inputSecret('uid').metadata!.annotations!['hookgate.io/trace-id']).toBe(SENDER_TRACE);
  });

  it('ends the trace of a refused request with its status', async () => {
    const { exporter, deliver } = setup();
    await deliver({ authorization: 'Bearer wrong', traceparent: TRACEPARENT });
    const root = exporter.getFinishedSpans().find((s) => s.name.startsWith('POST'))!;
    expect(root.attributes).toMatchObject({
      'http.response.status_code': 401,
      'hookgate.outcome': 'unauthorized',
    });
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual([
      'admit',
      'POST /hooks/{namespace}/{name}',
    ]);
  });
});

describe('with tracing off', () => {
  it('gives runs no trace context', () => {
    const run = buildRun({ route: withContainer(), deliveryId: 'd', input: {} });
    const names = run.job.spec!.template.spec!.containers[0]!.env!.map((e) => e.name);
    expect(names).not.toContain(Env.traceparent);
    expect(run.job.metadata!.annotations).not.toHaveProperty('hookgate.io/trace-id');
  });

  it('loads no OpenTelemetry code: only tracing-otel.ts imports it, and only tracing.ts imports that, lazily', () => {
    const root = resolve(import.meta.dirname, '..');
    const files = ['ingress', 'lib', 'api'].flatMap((d) =>
      readdirSync(join(root, d), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.test-helper.ts'))
        .map((f) => join(d, f)),
    );
    const importers = files.filter((f) =>
      /^\s*import\s[^;]*from\s*'@opentelemetry\//m.test(
        readFileSync(join(root, f), 'utf8').replace(/^\s*import type[^;]*;/gm, ''),
      ),
    );
    expect(importers).toEqual(['ingress/tracing-otel.ts']);
    const loaders = files.filter((f) => readFileSync(join(root, f), 'utf8').includes('tracing-otel.ts'));
    expect(loaders).toEqual(['ingress/tracing.ts']);
    expect(readFileSync(join(root, 'ingress/tracing.ts'), 'utf8')).toContain(
      "await import('./tracing-otel.ts')",
    );
  });
});
