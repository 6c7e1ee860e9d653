// The chart's egress for the ingress (networkPolicy.egress): off by default (egress open, as
// before); when on, DNS and the API server only, plus public https/http for identity senders
// (SNS, PayPal, OIDC) with `senders`; refused without the API server's addresses. The rendered
// policy is accepted by the real API server (a server-side dry run).
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { kubectl, runBinary, useNamespace } from './helpers.ts';

const CHART = fileURLToPath(new URL('../charts/hookgate', import.meta.url));
const ns = useNamespace('chart-egress');

// biome-ignore lint/suspicious/noExplicitAny: rendered Kubernetes objects are checked field by field
type Obj = any;

async function render(values: object): Promise<{ objs: Obj[]; stdout: string; error: string }> {
  const r = await runBinary(
    'helm',
    [
      'template',
      'hg',
      CHART,
      '-n',
      ns.name,
      '--kube-version',
      '1.35.0',
      '--show-only',
      'templates/networkpolicy.yaml',
      '-f',
      '-',
    ],
    JSON.stringify(values),
  );
  const objs =
    r.code === 0
      ? parseAllDocuments(r.stdout)
          .map((d) => d.toJS())
          .filter(Boolean)
      : [];
  return { objs, stdout: r.stdout, error: r.code === 0 ? '' : r.stderr };
}
const ingressPolicy = (objs: Obj[]) => objs.find((o) => o.metadata.name === 'hg-hookgate-ingress');
const API = { cidrs: ['10.0.0.1/32'] };

describe('networkPolicy.egress', () => {
  it('is off by default: the ingress policy restricts ingress only', async () => {
    const np = ingressPolicy((await render({})).objs);
    expect(np.spec.policyTypes).toEqual(['Ingress']);
    expect(np.spec.egress).toBeUndefined();
  });

  it('allows DNS and the API server only, without senders', async () => {
    const np = ingressPolicy(
      (await render({ networkPolicy: { egress: { enabled: true, apiServer: API } } })).objs,
    );
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np.spec.egress).toHaveLength(2);
    expect(np.spec.egress[1]).toEqual({
      to: [{ ipBlock: { cidr: '10.0.0.1/32' } }],
      ports: [
        { port: 443, protocol: 'TCP' },
        { port: 6443, protocol: 'TCP' },
      ],
    });
  });

  it('with senders, public addresses on 443 and 80 but no private, link-local or CGNAT range', async () => {
    const values = { networkPolicy: { egress: { enabled: true, apiServer: API, senders: true } } };
    const { objs, stdout } = await render(values);
    const rule = ingressPolicy(objs).spec.egress[2];
    expect(rule.ports).toEqual([
      { port: 443, protocol: 'TCP' },
      { port: 80, protocol: 'TCP' },
    ]);
    expect(rule.to[0].ipBlock.except).toEqual(
      expect.arrayContaining([
        '10.0.0.0/8',
        '169.254.0.0/16',
        '172.16.0.0/12',
        '192.168.0.0/16',
        '100.64.0.0/10',
      ]),
    );
    expect(rule.to[1].ipBlock.except).toEqual(expect.arrayContaining(['fc00::/7', 'fe80::/10']));
    const dry = await kubectl(['apply', '--dry-run=server', '-n', ns.name, '-f', '-'], { input: stdout });
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
  });

  it('is refused without the API server’s addresses', async () => {
    const { error } = await render({ networkPolicy: { egress: { enabled: true } } });
    expect(error).toContain('networkPolicy.egress.enabled needs networkPolicy.egress.apiServer.cidrs');
  });
});
