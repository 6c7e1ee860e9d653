import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { wantsHelp } from '../lib/config.ts';
import { eventRecorder } from '../lib/events.ts';
import { KubeClient } from '../lib/kube.ts';
import { loadKubeAccess } from '../lib/kubeconfig.ts';
import { createLogger, type Logger } from '../lib/log.ts';
import { componentMetrics, hookgateVersion } from '../lib/metrics.ts';
import { serveProbes } from '../lib/probes.ts';
import { buildApp } from './app.ts';
import { BodyBudget } from './body-budget.ts';
import { KubeCaptures } from './handshakes/capture.ts';
import { ConfigError, FLAGS, type IngressConfig, loadIngressConfig } from './http/config.ts';
import { ingressMetrics } from './metrics.ts';
import type { OutboundTesting } from './outbound/client.ts';
import { Peers } from './peers.ts';
import { RejectionReporter } from './rejections.ts';
import { RouteStore } from './routes-store.ts';
import { KubeLauncher } from './run/launcher.ts';
import { FIELD_MANAGER, StatusWriter } from './status-writer.ts';
import { type RequestTracer, tracerFromEnv } from './tracing.ts';
import type { RouteTable } from './types.ts';
import { Identities } from './verify/identity.ts';

/**
 * Reads the configuration, builds the real dependencies, listens, and on SIGTERM/SIGINT stops
 * accepting and lets in-flight requests finish (at most `--shutdown-timeout`) before exiting.
 */
export async function main(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  /**
   * Test-only trust anchors and loopback hosts for outbound calls (SNS, PayPal, OIDC stand-ins).
   * Only code passes it (test/harness/ingress-with-stand-ins.ts): no flag or variable sets it.
   */
  testing?: OutboundTesting,
): Promise<void> {
  if (wantsHelp(argv)) {
    console.log(FLAGS.usage());
    return;
  }
  let config: IngressConfig;
  try {
    config = loadIngressConfig(argv, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`hookgate-ingress: ${err.message}\n\n${FLAGS.usage()}`);
    process.exitCode = 2;
    return;
  }
  const log = createLogger('hookgate-ingress', config.logLevel, { async: true });
  let tracer: RequestTracer | undefined;
  try {
    tracer = await tracerFromEnv(env, hookgateVersion());
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`hookgate-ingress: ${err.message}`);
    process.exitCode = 2;
    return;
  }
  if (tracer) log.info('tracing requests (OpenTelemetry, configured by OTEL_* variables)');
  const kc = await loadKubeAccess(config.kubeconfig);

  const registry = new Registry();
  componentMetrics(registry, 'ingress', kc);
  const metrics = ingressMetrics(registry);
  // Every trigger's counters exist, at zero, as long as its route does.
  const store = new RouteStore(kc, config.namespace, log.child({ component: 'routes' }), {
    served: (route) => metrics.addTrigger(route),
    gone: (route) => metrics.removeTrigger(route),
  });
  // Runs started are counted by the app (it sees every launch); the launcher reports what only it sees.
  const launcher = new KubeLauncher(
    kc,
    { onJobCreated: metrics.jobCreated, onRunFinished: metrics.runFinished },
    log.child({ component: 'launcher' }),
  );
  const status = new StatusWriter(kc, log.child({ component: 'status' }));
  const rejections = new RejectionReporter(
    status,
    eventRecorder(new KubeClient(kc), log.child({ component: 'events' }), FIELD_MANAGER),
  );
  const peers = config.peersService
    ? new Peers(kc, config.namespace, config.peersService, config.podIp, log.child({ component: 'peers' }))
    : undefined;
  // Ready once the caches are loaded: routes to match, Jobs for Forbid/Replace decisions, and the
  // peers that share rate limits.
  const routes: RouteTable = {
    get ready() {
      return store.ready && launcher.ready && (peers?.ready ?? true);
    },
    match: (path) => store.match(path),
  };

  const app = buildApp(
    {
      routes,
      launcher,
      registry,
      logger: log,
      trustedProxies: config.trustedProxies,
      floodLimit: { requests: config.floodLimit, periodSeconds: Math.ceil(config.floodPeriod / 1000) },
      bodies: new BodyBudget({ total: config.bodyBudget, perClient: config.clientBodyBudget }),
      recordUse: (route) => status.recordUse(route),
      recordHandshake: (route, name) => status.recordHandshake(route, name),
      recordSns: (route, sns) => status.recordSns(route, sns),
      identities: new Identities(testing ? { testing } : {}),
      captures: new KubeCaptures(kc, config.namespace, log.child({ component: 'captures' })),
      recordRejection: (route, outcome, code, reason) => rejections.record(route, outcome, code, reason),
      ...(tracer ? { tracer } : {}),
      ...(peers ? { share: (limit: number) => peers.share(limit) } : {}),
    },
    serverOptions(config),
  );

  status.start();
  peers?.start();
  // Both resolve after their first list and retry on their own; readiness waits for them.
  void store.start().then(() => {
    if (store.ready) log.info({ routes: store.size }, 'routes loaded');
  });
  void launcher.start();
  await app.listen({ host: config.address, port: config.port });
  const probes = config.metricsPort
    ? await serveProbes({ registry, metricsPort: config.metricsPort, host: config.address })
    : undefined;
  log.info({ port: config.port, metricsPort: config.metricsPort }, 'ingress listening');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: draining in-flight requests');
    await drain(app, config.shutdownTimeout, log);
    await Promise.allSettled([
      status.stop(),
      launcher.stop(),
      store.stop(),
      peers?.stop(),
      tracer?.shutdown(),
    ]);
    await probes?.close();
    log.info('stopped');
    await new Promise<void>((done) => log.flush(() => done()));
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      shutdown(signal).then(
        () => process.exit(0),
        (err) => {
          log.error({ err }, 'shutdown failed');
          log.flush(() => process.exit(1));
        },
      );
    });
  }
}

/** Timeouts and caps of the webhook server. */
export function serverOptions(
  config: Pick<IngressConfig, 'requestTimeout' | 'keepAliveTimeout' | 'maxHeaderBytes'>,
) {
  return {
    // Time to receive a whole request (headers and body): slow senders cannot hold sockets.
    requestTimeout: config.requestTimeout,
    keepAliveTimeout: config.keepAliveTimeout,
    // Socket inactivity: longer than the longest wait-mode answer (300 s), during which the socket
    // is legitimately quiet; slow request bodies are cut by requestTimeout instead.
    connectionTimeout: 310_000,
    http: {
      maxHeaderSize: config.maxHeaderBytes,
      headersTimeout: Math.min(config.requestTimeout, 10_000),
      // How often Node enforces the two timeouts above (its default, 30 s, would double them).
      connectionsCheckingInterval: Math.min(config.requestTimeout, 5_000),
    },
  };
}

/**
 * Stops accepting, answers 503 on kept-alive sockets, closes idle ones and waits for in-flight
 * requests; those still running after `timeoutMs` have their connections closed.
 */
export async function drain(app: FastifyInstance, timeoutMs: number, log: Logger): Promise<void> {
  const deadline = setTimeout(() => {
    log.warn('in-flight requests did not finish in time; closing their connections');
    app.server.closeAllConnections();
  }, timeoutMs);
  deadline.unref();
  try {
    await app.close();
  } finally {
    clearTimeout(deadline);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
