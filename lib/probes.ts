// The probe and metrics servers of both components: /metrics on the metrics port, /healthz and
// /readyz on the health port (one server when they are the same port).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface ProbeOptions {
  registry: Registry;
  /** Off when undefined; 0 picks a free port (tests). */
  metricsPort?: number;
  healthPort?: number;
  /** /readyz answers 200 only when this is true (caches synced). Default: always. */
  ready?: () => boolean;
  host?: string;
}

export interface ProbeServers {
  /** Actual ports (useful when 0 asks for any free one in tests). */
  ports: { metrics?: number; health?: number };
  close(): Promise<void>;
}

/**
 * Serves /metrics on metricsPort and /healthz, /readyz on healthPort (one server when equal).
 */
export async function serveProbes(o: ProbeOptions): Promise<ProbeServers> {
  const metrics = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const text = await o.registry.metrics();
    res.writeHead(200, { 'content-type': o.registry.contentType });
    res.end(req.method === 'HEAD' ? '' : text);
  };
  const probe = (res: http.ServerResponse, ok: boolean) => {
    res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
    res.end(ok ? 'ok\n' : 'not ready\n');
  };
  const handler =
    (paths: { metrics: boolean; health: boolean }) =>
    (req: http.IncomingMessage, res: http.ServerResponse) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405).end();
      } else if (paths.metrics && path === '/metrics') {
        metrics(req, res).catch(() => res.writeHead(500).end());
      } else if (paths.health && path === '/healthz') {
        probe(res, true);
      } else if (paths.health && path === '/readyz') {
        probe(res, o.ready?.() ?? true);
      } else {
        res.writeHead(404).end();
      }
    };
  const listen = (port: number, paths: { metrics: boolean; health: boolean }) =>
    new Promise<http.Server>((resolve, reject) => {
      const server = http.createServer(handler(paths));
      server.once('error', reject);
      server.listen(port, o.host, () => resolve(server));
    });
  const servers: http.Server[] = [];
  const ports: ProbeServers['ports'] = {};
  const portOf = (s: http.Server) => (s.address() as AddressInfo).port;
  if (o.metricsPort !== undefined && o.metricsPort === o.healthPort && o.metricsPort !== 0) {
    const s = await listen(o.metricsPort, { metrics: true, health: true });
    servers.push(s);
    ports.metrics = ports.health = portOf(s);
  } else {
    if (o.metricsPort !== undefined) {
      const s = await listen(o.metricsPort, { metrics: true, health: false });
      servers.push(s);
      ports.metrics = portOf(s);
    }
    if (o.healthPort !== undefined) {
      const s = await listen(o.healthPort, { metrics: false, health: true });
      servers.push(s);
      ports.health = portOf(s);
    }
  }
  return {
    ports,
    close: () =>
      Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      ).then(() => {}),
  };
}
