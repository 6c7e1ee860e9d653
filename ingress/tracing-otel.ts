// The OpenTelemetry side of ingress/tracing.ts, imported only when tracing is on. Configured by the
// standard variables: OTEL_TRACES_EXPORTER (otlp, console, none), OTEL_EXPORTER_OTLP_[TRACES_]
// {ENDPOINT,PROTOCOL,HEADERS,TIMEOUT} (read by the exporters), OTEL_TRACES_SAMPLER[_ARG] (read by
// the provider; default parentbased_always_on), OTEL_BSP_* (the batch processor),
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
import {
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { ConfigError } from '../lib/config.ts';
import type { RequestTrace, RequestTracer, RunTraceContext } from './tracing.ts';

/** The exporters OTEL_TRACES_EXPORTER names (default otlp), with their protocol for OTLP. */
export async function exporterFromEnv(env: NodeJS.ProcessEnv): Promise<SpanExporter[]> {
  const names = (env.OTEL_TRACES_EXPORTER ?? 'otlp')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e && e !== 'none');
  const exporters: SpanExporter[] = [];
  for (const name of names) {
    if (name === 'console') exporters.push(new ConsoleSpanExporter());
    else if (name === 'otlp') exporters.push(await otlpExporter(env));
    else throw new ConfigError(`OTEL_TRACES_EXPORTER=${name} is not supported (use otlp, console or none)`);
  }
  return exporters;
}

async function otlpExporter(env: NodeJS.ProcessEnv): Promise<SpanExporter> {
  const protocol =
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  if (protocol === 'http/protobuf')
    return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter();
  if (protocol === 'http/json')
    return new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter();
  throw new ConfigError(
    `OTLP protocol ${protocol} is not supported by the ingress (use http/protobuf or http/json)`,
  );
}

const propagator = new W3CTraceContextPropagator();

/**
 * A tracer exporting to `exporters`, batched (`simple`: one export per span, for tests). Sender
 * context is read only through W3C trace context, which keeps a valid `traceparent` and at most 32
 * valid `tracestate` members of 512 characters in all; anything else starts a new trace.
 */
export function otelTracer(exporters: SpanExporter[], version: string, simple = false): RequestTracer {
  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': 'hookgate-ingress', 'service.version': version }))
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new BasicTracerProvider({
    resource,
    spanProcessors: exporters.map((e) => (simple ? new SimpleSpanProcessor(e) : new BatchSpanProcessor(e))),
  });
  const tracer = provider.getTracer('hookgate-ingress', version);
  return {
    start(method, headers): RequestTrace {
      const parent = propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
      const root = tracer.startSpan(
        `${method} /hooks/{namespace}/{name}`,
        {
          kind: SpanKind.SERVER,
          attributes: { 'http.request.method': method, 'http.route': '/hooks/:namespace/:name' },
        },
        parent,
      );
      const inRoot: Context = trace.setSpan(parent, root);
      let current: Span | undefined;
      return {
        traceId: root.spanContext().traceId,
        stage(name) {
          current?.end();
          current = tracer.startSpan(name, {}, inRoot);
        },
        carrier(): RunTraceContext {
          const c: Record<string, string> = {};
          propagator.inject(trace.setSpan(inRoot, current ?? root), c, defaultTextMapSetter);
          return { traceparent: c.traceparent!, ...(c.tracestate ? { tracestate: c.tracestate } : {}) };
        },
        end(statusCode, attributes) {
          current?.end();
          current = undefined;
          root.setAttribute('http.response.status_code', statusCode);
          for (const [k, v] of Object.entries(attributes)) if (v !== undefined) root.setAttribute(k, v);
          if (statusCode >= 500 || statusCode === 0) root.setStatus({ code: SpanStatusCode.ERROR });
          root.end();
        },
      };
    },
    shutdown: () => provider.shutdown(),
  };
}
