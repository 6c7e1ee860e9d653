// The metrics every component exports besides its own: Node's process and runtime (prom-client's
// default collectors), hookgate_build_info, and the Kubernetes API requests of its one client.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { collectDefaultMetrics, Gauge, type Registry } from 'prom-client';
import { kubeRequestMetrics, observeKube } from './kube-metrics.ts';
import type { KubeAccess } from './kubeconfig.ts';

/**
 * prom-client's gauges that end in `_total`, which `promtool check metrics` (and Prometheus naming)
 * reserve for counters. Their per-type twins (`nodejs_active_handles{type}` ...) stay: a sum over
 * type is the same number.
 */
export const DROPPED_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** hookgate's version: `version` of the package.json above this file (sources, dist/ or the image). */
export function hookgateVersion(from = import.meta.dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'hookgate' && pkg.version) return pkg.version;
    } catch {}
    if (dirname(dir) === dir) return 'unknown';
  }
}

/**
 * Registers the process and runtime collectors and `hookgate_build_info` in `registry`, and, when
 * `kc` is given, counts every API request made with it.
 */
export function componentMetrics(
  registry: Registry,
  component: 'operator' | 'ingress',
  kc?: KubeAccess,
): void {
  collectDefaultMetrics({ register: registry });
  for (const name of DROPPED_DEFAULTS) registry.removeSingleMetric(name);
  new Gauge({
    name: 'hookgate_build_info',
    help: 'Always 1: the version of hookgate and of Node.js this component runs.',
    labelNames: ['component', 'version', 'nodejs_version'],
    registers: [registry],
  }).set({ component, version: hookgateVersion(), nodejs_version: process.versions.node }, 1);
  if (kc) observeKube(kc, kubeRequestMetrics(registry));
}
