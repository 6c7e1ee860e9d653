// What a WebhookTrigger's `response` may ask for (issue 20), judged by the real API server's CRD
// validation: no headers that frame the answer or act on the origin every trigger shares, no CR/LF
// (Node would refuse to send them, after the run started), output only in wait mode.
import { describe, expect, it } from 'vitest';
import { GROUP, VERSION } from '../api/v1alpha1/index.ts';
import { kubectl, useNamespace } from './helpers.ts';

const ns = useNamespace('crd-response');
const create = (name: string, response: object) =>
  kubectl(['create', '-n', ns.name, '--dry-run=server', '-f', '-'], {
    input: JSON.stringify({
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'WebhookTrigger',
      metadata: { name },
      spec: { workflowRef: { name: 'wf' }, auth: { bearer: {} }, response },
    }),
  });

describe('WebhookTrigger response', () => {
  it.each([
    'Set-Cookie',
    'set-cookie',
    'Strict-Transport-Security',
    'Content-Security-Policy',
    'Access-Control-Allow-Origin',
    'Cross-Origin-Opener-Policy',
    'Clear-Site-Data',
    'Content-Type',
    'Transfer-Encoding',
  ])('refuses the header %s', async (header) => {
    const r = await create('h', { headers: { [header]: 'x' } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('may not set Content-Type, Set-Cookie, Strict-Transport-Security');
  });

  it.each([
    ['a CR/LF (header injection)', 'ok\r\nSet-Cookie: a=b'],
    ['a lone LF', 'a\nb'],
    ['a NUL', 'a\u0000b'],
  ])('refuses a header value with %s', async (_what, value) => {
    const r = await create('v', { headers: { 'X-Run': value } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.response.headers.X-Run');
  });

  it('accepts other headers, and includeOutput in wait mode only', async () => {
    const ok = await create('ok', { headers: { 'X-Run-Source': 'hookgate', 'Cache-Control': 'no-store' } });
    expect(ok.stderr).toBe('');
    expect((await create('wait', { mode: 'wait', includeOutput: true })).stderr).toBe('');
    const r = await create('async', { includeOutput: true });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('includeOutput applies only to mode wait');
  });
});
