// The chart refuses a public exposure whose proxies are not trusted: behind an Ingress controller or
// Gateway every sender would share the proxy's address, and one flood would get real senders refused.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runBinary } from './helpers.ts';

const CHART = fileURLToPath(new URL('../charts/hookgate', import.meta.url));

const template = (values: object) =>
  runBinary(
    'helm',
    ['template', 'hg', CHART, '-n', 'hookgate-system', '--kube-version', '1.35.0', '-f', '-'],
    JSON.stringify(values),
  );

const ingress = { ingress: { enabled: true, host: 'hooks.example.com' } };
const httpRoute = {
  httpRoute: { enabled: true, parentRefs: [{ name: 'public' }], hostnames: ['h.example.com'] },
};

describe('chart: public exposure needs trusted proxies', () => {
  it.each([
    ['an Ingress', ingress],
    ['an HTTPRoute', httpRoute],
  ])('refuses %s without ingress.trustedProxies, saying what to set', async (_, expose) => {
    const r = await template({ expose });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('ingress.trustedProxies is empty');
    expect(r.stderr).toContain("--set 'ingress.trustedProxies={10.0.0.0/8}'");
    expect(r.stderr).toContain('ingress.allowUntrustedProxyAddresses=true');
  });

  it.each([
    ['trusted proxies set', { expose: ingress, ingress: { trustedProxies: ['10.0.0.0/8'] } }],
    ['the explicit opt-out', { expose: httpRoute, ingress: { allowUntrustedProxyAddresses: true } }],
    ['no public exposure', {}],
  ])('renders with %s', async (_, values) => {
    const r = await template(values);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('the opt-out is a boolean, checked by the values schema', async () => {
    const r = await template({ expose: ingress, ingress: { allowUntrustedProxyAddresses: 'yes' } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('allowUntrustedProxyAddresses');
  });
});
