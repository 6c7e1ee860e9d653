// Tracing of webhook requests with OpenTelemetry, off unless the standard OTEL_* variables turn it
// on. This module loads no OpenTelemetry code: the SDK (tracing-otel.ts) is imported only when
// tracing is on, so a request costs nothing more with it off than an undefined check per stage.
import type { IncomingHttpHeaders } from 'node:http';

/** One request's trace: a server span continuing the sender's `traceparent`, one child per stage. */
export interface RequestTrace {
  /** 32 hex digits; in the request's log line as `trace_id`. */
  readonly traceId: string;
  /** Ends the stage running and starts `name` (admit, read body, verify, map input, launch). */
  stage(name: string): void;
  /** The context the run continues (OpenTelemetry's environment carrier: TRACEPARENT, TRACESTATE). */
  carrier(): RunTraceContext;
  /** Ends the request's spans; 0 for a request the client aborted. */
  end(statusCode: number, attributes: Record<string, string | undefined>): void;
}

export interface RunTraceContext {
  traceparent: string;
  tracestate?: string;
}

export interface RequestTracer {
  start(method: string, headers: IncomingHttpHeaders): RequestTrace;
  /** Exports what is buffered. */
  shutdown(): Promise<void>;
}

/**
 * Whether the environment asks for traces: OTEL_TRACES_EXPORTER set to something other than
 * `none`, or without it an OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); never with OTEL_SDK_DISABLED=true.
 */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = env.OTEL_TRACES_EXPORTER?.split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (exporters?.length) return exporters.some((e) => e !== 'none');
  return !!(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** The tracer the environment asks for, or undefined (and nothing loaded) when it asks for none. */
export async function tracerFromEnv(
  env: NodeJS.ProcessEnv,
  version: string,
): Promise<RequestTracer | undefined> {
  if (!tracingRequested(env)) return undefined;
  const { otelTracer, exporterFromEnv } = await import('./tracing-otel.ts');
  return otelTracer(await exporterFromEnv(env), version);
}
