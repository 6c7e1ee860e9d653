// The ingress's egress for identity senders (networkPolicy.senderEgress): off by default (the API
// server only, test/chart-exposure.test.ts); when on, DNS and public https/http for SNS, PayPal and
// OIDC, never a private, link-local or CGNAT range. The rendered policy is accepted by the real API
// server (a server-side dry run).
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

describe('networkPolicy.senderEgress', () => {
  it('is off by default: the ingress reaches the API server only', async () => {
    const np = ingressPolicy((await render({})).objs);
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np.spec.egress).toHaveLength(1);
    expect(JSON.stringify(np.spec.egress)).not.toContain('0.0.0.0/0');
  });

  it('adds DNS and public addresses on 443 and 80 but no private, link-local or CGNAT range', async () => {
    const values = { networkPolicy: { apiServer: API, senderEgress: true } };
    const { objs, stdout } = await render(values);
    const egress = ingressPolicy(objs).spec.egress;
    expect(egress[0]).toEqual({
      to: [{ ipBlock: { cidr: '10.0.0.1/32' } }],
      ports: [
        { port: 443, protocol: 'TCP' },
        { port: 6443, protocol: 'TCP' },
      ],
    });
    expect(egress[1].ports).toEqual([
      { port: 53, protocol: 'UDP' },
      { port: 53, protocol: 'TCP' },
    ]);
    const rule = egress[2];
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

  it('keeps ingressEgress rules after its own', async () => {
    const extra = { to: [{ ipBlock: { cidr: '203.0.113.0/24' } }], ports: [{ port: 8443 }] };
    const values = { networkPolicy: { apiServer: API, senderEgress: true, ingressEgress: [extra] } };
    const egress = ingressPolicy((await render(values)).objs).spec.egress;
    expect(egress).toHaveLength(4);
    expect(egress[3]).toEqual(extra);
  });
});
