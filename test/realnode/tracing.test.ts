// A traced delivery on a real node: the ingress runs with the standard OTEL_* variables, exporting
// OTLP (http/json) to a collector in this test; the sender's trace continues through the ingress's
// spans into the run, whose container prints the TRACEPARENT and TRACESTATE it received.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BatchV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerLog } from '../harness/index.ts';
import { kubeConfig, realNode, useHookgate, useNamespace, waitFor } from '../helpers.ts';
import {
  applyObjects,
  realNodeWorkflowObject,
  triggerEndpoint,
  triggerObject,
} from '../objects.test-helper.ts';

const { node, skip } = realNode();

const SENDER_TRACE = '0af7651916cd43dd8448eb211c80319c';
const SENDER_SPAN = 'b7ad6b7169203331';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}

/** A stand-in OTLP/HTTP collector: keeps the spans of every JSON export it is sent. */
function collector(): Promise<{ server: Server; url: string; spans: OtlpSpan[] }> {
  const spans: OtlpSpan[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const data = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
        for (const rs of data.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans }),
    ),
  );
}

describe.skipIf(skip)('a traced delivery on a real node', () => {
  const app = useNamespace('rn-trace');
  let otlp: Awaited<ReturnType<typeof collector>>;
  beforeAll(async () => {
    otlp = await collector();
  });
  afterAll(() => {
    otlp?.server.close();
  });
  // After the collector's: hooks run in order, and it needs the collector's URL.
  useHookgate('rt', () => ({
    ingressEnv: {
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '200',
    },
  }));

  it("continues the sender's trace into the container's TRACEPARENT, and exports the ingress's spans", async () => {
    const name = 'traced';
    const script = 'echo "TRACEPARENT=$TRACEPARENT"; echo "TRACESTATE=$TRACESTATE"';
    await applyObjects(app.name, [
      realNodeWorkflowObject(name, node.busybox, script),
      triggerObject(name, name),
    ]);
    const { url, token } = await triggerEndpoint(app.name, name);
    const core = kubeConfig().makeApiClient(CoreV1Api);

    const answer = await waitFor(
      async () => {
        const res = await fetch(url, {
          method: 'POST',
          body: '{}',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${token}`,
            traceparent: `00-${SENDER_TRACE}-${SENDER_SPAN}-01`,
            // `$(HOSTNAME)` is a variable the kubelet would expand, were it not escaped.
            tracestate: 'rojo=$(HOSTNAME),congo=t61rcWkgMzE',
          },
        });
        return res.status !== 404 && { status: res.status, body: (await res.json()) as { run: string } };
      },
      { what: 'a route' },
    );
    expect(answer.status).toBe(202);
    const run = answer.body.run;

    const job = await kubeConfig()
      .makeApiClient(BatchV1Api)
      .readNamespacedJob({ namespace: app.name, name: run });
    expect(job.metadata?.annotations?.['hookgate.io/trace-id']).toBe(SENDER_TRACE);

    const pod = await waitFor(
      async () => {
        const pods = await core.listNamespacedPod({ namespace: app.name, labelSelector: `job-name=${run}` });
        const p = pods.items[0];
        return p?.status?.containerStatuses?.[0]?.state?.terminated && p;
      },
      { what: 'the container to finish', timeoutMs: 60_000 },
    );
    expect(pod.spec!.nodeName).toBe(node.name);
    const stdout = (await containerLog(node, app.name, pod.metadata!.name!, 'main')) ?? '';

    const launch = await waitFor(
      () => otlp.spans.find((s) => s.name === 'launch' && s.traceId === SENDER_TRACE),
      { what: "the ingress's launch span at the collector" },
    );
    const root = otlp.spans.find((s) => s.spanId === launch.parentSpanId)!;
    expect(root).toMatchObject({
      name: 'POST /hooks/{namespace}/{name}',
      traceId: SENDER_TRACE,
      parentSpanId: SENDER_SPAN,
    });
    expect(stdout).toContain(`TRACEPARENT=00-${SENDER_TRACE}-${launch.spanId}-01\n`);
    expect(stdout).toContain('TRACESTATE=rojo=$(HOSTNAME),congo=t61rcWkgMzE\n');
  });
});
