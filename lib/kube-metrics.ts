// What every call to the API server is counted by: verb, resource and code, each from a bounded set
// (the verbs of the API, the collections our code names, the HTTP status codes), as client-go's
// rest_client metrics are. The observer hangs off the KubeAccess both components build once, so
// every client made from it (KubeClient, the informers' lists and watches) reports to one place.
import { Counter, Histogram, type Registry } from 'prom-client';
import type { KubeAccess } from './kubeconfig.ts';

export interface KubeRequest {
  method: string;
  path: string;
  query?: Record<string, string>;
}

export interface KubeRequestObserver {
  /** `code`: the HTTP status, or undefined when no answer came (network error, timeout). */
  observe(r: KubeRequest, code: number | undefined, seconds: number): void;
}

const observers = new WeakMap<KubeAccess, KubeRequestObserver>();

/** Counts every request made with `kc` from now on. */
export function observeKube(kc: KubeAccess, observer: KubeRequestObserver): void {
  observers.set(kc, observer);
}

export const kubeObserver = (kc: KubeAccess): KubeRequestObserver | undefined => observers.get(kc);

/** client-go's label for a request that got no answer. */
export const NO_ANSWER = '<error>';

// Plurals, groups and subresources are DNS-label-like; anything else (a path we never build) is 'other'.
const SEGMENT = /^[a-z0-9][a-z0-9.-]{0,62}$/;

/**
 * The API verb and resource (`<plural>[.<group>][/<subresource>]`, as kubectl spells it) of a request
 * path such as `/apis/batch/v1/namespaces/a/jobs/b`.
 */
export function describeRequest(r: KubeRequest): { verb: string; resource: string } {
  const parts = r.path.split('?')[0]!.split('/').filter(Boolean);
  let group = '';
  let rest: string[];
  if (parts[0] === 'api') rest = parts.slice(2);
  else if (parts[0] === 'apis') {
    group = parts[1] ?? '';
    rest = parts.slice(3);
  } else return { verb: r.method.toLowerCase(), resource: 'other' };
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  const [plural = '', name, sub] = rest;
  const named = name !== undefined;
  const ok = SEGMENT.test(plural) && (group === '' || SEGMENT.test(group)) && (!sub || SEGMENT.test(sub));
  const resource = ok ? `${plural}${group ? `.${group}` : ''}${sub ? `/${sub}` : ''}` : 'other';
  return { verb: verbOf(r, named), resource };
}

function verbOf(r: KubeRequest, named: boolean): string {
  switch (r.method.toUpperCase()) {
    case 'GET':
      if (r.query?.watch === 'true') return 'watch';
      return named ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return named ? 'delete' : 'deletecollection';
    default:
      return 'other';
  }
}

/** The two collectors of API requests, registered in `registry`. */
export function kubeRequestMetrics(registry: Registry): KubeRequestObserver {
  const registers = [registry];
  const requests = new Counter({
    name: 'hookgate_kube_requests_total',
    help: 'Requests to the Kubernetes API server by verb, resource and HTTP status code (<error>: no answer).',
    labelNames: ['verb', 'resource', 'code'],
    registers,
  });
  const duration = new Histogram({
    name: 'hookgate_kube_request_duration_seconds',
    help: 'Time to the answer of a Kubernetes API request (watches excluded), by verb and resource.',
    labelNames: ['verb', 'resource'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  return {
    observe(r, code, seconds) {
      const { verb, resource } = describeRequest(r);
      requests.inc({ verb, resource, code: code === undefined ? NO_ANSWER : String(code) });
      if (verb !== 'watch') duration.observe({ verb, resource }, seconds);
    },
  };
}
