// What the chart lets a user publish. It refuses a public exposure whose proxies are not trusted:
// behind an Ingress controller or Gateway every sender would share the proxy's address, and one flood
// would get real senders refused. And (issue 20) `helm template` refuses, saying what to set, public
// exposure without TLS, a LoadBalancer/NodePort that would hide senders' addresses, and the ingress
// without its admission policies unless watchNamespaces confines it; metrics are never on the public
// Service; with trusted proxies only the proxies reach the webhook port; both components may reach
// the API server and nothing else.
import { describe, expect, it } from 'vitest';
import { findOne, type Obj, renderValues, templateChart } from './chart.test-helper.ts';

const template = templateChart;

const ingress = { ingress: { enabled: true, host: 'hooks.example.com', tlsSecretName: 'hooks-tls' } };
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
    expect(r.stderr).toContain('Set ingress.trustedProxies to the CIDRs your ingress controller or gateway');
    expect(r.stderr).toContain('networkPolicy.webhookFrom to its pods');
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

const render = renderValues;
const TLS = { enabled: true, host: 'hooks.example.com', tlsSecretName: 'hooks-tls' };
const PROXIES = { trustedProxies: ['10.1.0.0/16'] };
const HTTPS = 'https://hooks.example.com';

describe('helm template refuses', () => {
  it.each<[string, object, string]>([
    [
      'an Ingress without TLS',
      { expose: { ingress: { ...TLS, tlsSecretName: '' } }, ingress: PROXIES },
      'expose.ingress is enabled without expose.ingress.tlsSecretName',
    ],
    [
      'an HTTPRoute whose URL is plain HTTP',
      {
        publicBaseURL: 'http://hooks.example.com',
        expose: { httpRoute: { enabled: true, parentRefs: [{ name: 'public' }] } },
        ingress: PROXIES,
      },
      'the public trigger URLs would be http://hooks.example.com (plain HTTP): set publicBaseURL to the https:// URL',
    ],
    [
      'a LoadBalancer whose URL is plain HTTP',
      { ingress: { service: { type: 'LoadBalancer', externalTrafficPolicy: 'Local' } } },
      'the public trigger URLs would be http://hg-hookgate-ingress.hookgate-system.svc (plain HTTP)',
    ],
    [
      'a LoadBalancer that hides senders’ addresses (externalTrafficPolicy Cluster, no trusted proxies)',
      { publicBaseURL: HTTPS, ingress: { service: { type: 'LoadBalancer' } } },
      'ingress.service.type=LoadBalancer with externalTrafficPolicy Cluster: kube-proxy would give every sender a node',
    ],
    [
      'a NodePort that hides senders’ addresses',
      { publicBaseURL: HTTPS, ingress: { service: { type: 'NodePort', externalTrafficPolicy: 'Cluster' } } },
      'Set ingress.service.externalTrafficPolicy=Local',
    ],
    [
      'an Ingress with no trusted proxies (every sender one address)',
      { expose: { ingress: TLS } },
      'Set ingress.trustedProxies to the CIDRs your ingress controller or gateway connects from and networkPolicy.webhookFrom',
    ],
    [
      'the admission policies off with every namespace watched',
      { admission: { enabled: false } },
      'keep admission.enabled=true, or set watchNamespaces',
    ],
  ])('%s', async (_what, values, message) => {
    await expect(render(values)).rejects.toThrow(message);
  });

  it.each<[string, object, string]>([
    [
      'an unknown externalTrafficPolicy',
      { ingress: { service: { externalTrafficPolicy: 'Nearest' } } },
      'externalTrafficPolicy',
    ],
    [
      'an unknown Pod Security profile',
      { admission: { podSecurity: 'privileged' } },
      '/admission/podSecurity',
    ],
    ['no opt-in label at all', { admission: { runNamespaceLabels: null } }, 'runNamespaceLabels'],
    [
      'a webhook peer with a typo',
      { networkPolicy: { webhookFrom: [{ namespaceSelectr: {} }] } },
      'namespaceSelectr',
    ],
    [
      'an API server port that is not a port',
      { networkPolicy: { apiServer: { cidrs: [], ports: [0] } } },
      'apiServer/ports/0',
    ],
  ])('values with %s (values.schema.json)', async (_what, values, message) => {
    await expect(render(values)).rejects.toThrow(message);
  });
});

describe('helm template renders', () => {
  it('what the user says they accept: plaintext, or addresses hidden by a proxy they trust', async () => {
    const plain = await render({
      expose: { allowPlaintext: true, ingress: { ...TLS, tlsSecretName: '' } },
      ingress: PROXIES,
    });
    expect(findOne(plain, 'Ingress', 'hg-hookgate-ingress').spec.tls).toBeUndefined();
    const lb = await render({
      publicBaseURL: HTTPS,
      ingress: { ...PROXIES, service: { type: 'LoadBalancer' } },
    });
    expect(findOne(lb, 'Service', 'hg-hookgate-ingress').spec.externalTrafficPolicy).toBe('Cluster');
  });

  it.each(['ClusterIP', 'NodePort', 'LoadBalancer'])(
    'no metrics on the webhook Service (%s)',
    async (type) => {
      const objs = await render({
        publicBaseURL: HTTPS,
        ingress: { service: { type, externalTrafficPolicy: 'Local' } },
      });
      const svc = findOne(objs, 'Service', 'hg-hookgate-ingress');
      expect(svc.spec.type).toBe(type);
      expect(svc.spec.ports.map((p: Obj) => p.name)).toEqual(['http']);
      if (type !== 'ClusterIP') expect(svc.spec.externalTrafficPolicy).toBe('Local');
      const metrics = objs.filter(
        (o) => o.kind === 'Service' && o.spec.ports.some((p: Obj) => p.name === 'metrics'),
      );
      expect(metrics.map((m) => [m.metadata.name, m.spec.type ?? 'ClusterIP'])).toEqual([
        ['hg-hookgate-ingress-metrics', 'ClusterIP'],
        ['hg-hookgate-operator-metrics', 'ClusterIP'],
      ]);
    },
  );
});

describe('the NetworkPolicies', () => {
  const webhookRule = (objs: Obj[]) =>
    findOne(objs, 'NetworkPolicy', 'hg-hookgate-ingress').spec.ingress.find(
      (r: Obj) => r.ports[0].port === 'http',
    );

  it('open the webhook port to all while the socket address is the client’s', async () => {
    expect(webhookRule(await render({}))).toEqual({ ports: [{ port: 'http', protocol: 'TCP' }] });
  });

  it('with trusted proxies, let only the proxies reach it: their CIDRs, or the peers named', async () => {
    expect(
      webhookRule(await render({ ingress: { trustedProxies: ['10.1.0.0/16', '192.0.2.7/32'] } })).from,
    ).toEqual([{ ipBlock: { cidr: '10.1.0.0/16' } }, { ipBlock: { cidr: '192.0.2.7/32' } }]);
    const peers = [
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } },
    ];
    const objs = await render({
      expose: { ingress: TLS },
      ingress: { trustedProxies: ['10.0.0.0/8'] },
      networkPolicy: { webhookFrom: peers },
    });
    expect(webhookRule(objs).from).toEqual(peers);
  });

  it('let both components reach the API server’s ports and nothing else; the ingress more only when asked', async () => {
    const api = {
      ports: [
        { port: 443, protocol: 'TCP' },
        { port: 6443, protocol: 'TCP' },
      ],
    };
    const objs = await render({});
    for (const name of ['hg-hookgate-ingress', 'hg-hookgate-operator']) {
      const np = findOne(objs, 'NetworkPolicy', name);
      expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
      expect(np.spec.egress).toEqual([api]);
    }
    const jwks = { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }], ports: [{ port: 443 }] };
    const narrowed = await render({
      networkPolicy: { apiServer: { cidrs: ['172.18.0.2/32'], ports: [6443] }, ingressEgress: [jwks] },
    });
    const to = { ports: [{ port: 6443, protocol: 'TCP' }], to: [{ ipBlock: { cidr: '172.18.0.2/32' } }] };
    expect(findOne(narrowed, 'NetworkPolicy', 'hg-hookgate-ingress').spec.egress).toEqual([to, jwks]);
    expect(findOne(narrowed, 'NetworkPolicy', 'hg-hookgate-operator').spec.egress).toEqual([to]);
  });
});
