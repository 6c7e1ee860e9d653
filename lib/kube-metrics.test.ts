import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { describeRequest, kubeRequestMetrics } from './kube-metrics.ts';

describe('describeRequest', () => {
  it.each([
    ['GET', '/api/v1/namespaces/a/secrets', {}, 'list', 'secrets'],
    ['GET', '/api/v1/namespaces/a/secrets', { watch: 'true' }, 'watch', 'secrets'],
    ['GET', '/apis/batch/v1/namespaces/a/jobs/run-1', {}, 'get', 'jobs.batch'],
    ['GET', '/apis/batch/v1/jobs', {}, 'list', 'jobs.batch'],
    ['POST', '/apis/batch/v1/namespaces/a/jobs', { dryRun: 'All' }, 'create', 'jobs.batch'],
    [
      'PATCH',
      '/apis/hookgate.io/v1alpha1/namespaces/a/webhooktriggers/t/status',
      {},
      'patch',
      'webhooktriggers.hookgate.io/status',
    ],
    ['PUT', '/apis/coordination.k8s.io/v1/namespaces/s/leases/l', {}, 'update', 'leases.coordination.k8s.io'],
    ['DELETE', '/apis/batch/v1/namespaces/a/jobs/run-1', {}, 'delete', 'jobs.batch'],
    ['DELETE', '/apis/batch/v1/namespaces/a/jobs', {}, 'deletecollection', 'jobs.batch'],
    ['GET', '/api/v1/namespaces/a', {}, 'get', 'namespaces'],
    ['GET', '/version', {}, 'get', 'other'],
    ['GET', '/api/v1/namespaces/a/Secrets%2F..', {}, 'list', 'other'],
  ])('%s %s %o is %s %s', (method, path, query, verb, resource) => {
    expect(describeRequest({ method, path, query })).toEqual({ verb, resource });
  });
});

describe('kubeRequestMetrics', () => {
  it('counts by verb, resource and code, "<error>" for no answer, and times all but watches', async () => {
    const registry = new Registry();
    const observer = kubeRequestMetrics(registry);
    observer.observe({ method: 'POST', path: '/apis/batch/v1/namespaces/a/jobs' }, 201, 0.02);
    observer.observe({ method: 'POST', path: '/apis/batch/v1/namespaces/a/jobs' }, undefined, 10);
    observer.observe({ method: 'GET', path: '/api/v1/secrets', query: { watch: 'true' } }, 200, 0);
    const text = await registry.metrics();
    expect(text).toContain('hookgate_kube_requests_total{verb="create",resource="jobs.batch",code="201"} 1');
    expect(text).toContain(
      'hookgate_kube_requests_total{verb="create",resource="jobs.batch",code="<error>"} 1',
    );
    expect(text).toContain('hookgate_kube_requests_total{verb="watch",resource="secrets",code="200"} 1');
    expect(text).toContain(
      'hookgate_kube_request_duration_seconds_count{verb="create",resource="jobs.batch"} 2',
    );
    expect(text).not.toContain('hookgate_kube_request_duration_seconds_count{verb="watch"');
  });
});
