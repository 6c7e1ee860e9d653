import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import type https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadKubeAccess, parseKubeconfig } from './kubeconfig.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

const yamlConfig = (user: string) => `
apiVersion: v1
kind: Config
current-context: dev
contexts:
  - name: other
    context: { cluster: other, user: other }
  - name: dev
    context: { cluster: dev, user: dev }
clusters:
  - name: other
    cluster: { server: https://other.example:6443 }
  - name: dev
    cluster:
      server: https://127.0.0.1:6443
      certificate-authority: ca.crt
      tls-server-name: kubernetes
users:
  - name: other
    user: { token: not-this-one }
  - name: dev
    user:
${user}
`;

describe('loadKubeAccess', () => {
  it('reads the current context of a YAML kubeconfig: CA from a relative path, client certificate data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
    writeFileSync(join(dir, 'ca.crt'), 'CA');
    writeFileSync(
      join(dir, 'config'),
      yamlConfig(`      client-certificate-data: ${b64('CERT')}\n      client-key-data: ${b64('KEY')}`),
    );
    const kc = await loadKubeAccess(join(dir, 'config'));
    expect(kc.getCurrentCluster()).toEqual({ server: 'https://127.0.0.1:6443', tlsServerName: 'kubernetes' });
    const opts: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    expect(String(opts.ca)).toBe('CA');
    expect(String(opts.cert)).toBe('CERT');
    expect(String(opts.key)).toBe('KEY');
    expect(opts.servername).toBe('kubernetes');
    expect(opts.headers).toBeUndefined();
  });

  it('reads a token file again when it changes (a projected ServiceAccount token is rotated)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
    writeFileSync(join(dir, 'ca.crt'), 'CA');
    writeFileSync(join(dir, 'token'), 'first\n');
    writeFileSync(join(dir, 'config'), yamlConfig('      tokenFile: token'));
    const kc = await loadKubeAccess(join(dir, 'config'));
    const header = async () => {
      const opts: https.RequestOptions = {};
      await kc.applyToHTTPSOptions(opts);
      return (opts.headers as Record<string, string>).Authorization;
    };
    expect(await header()).toBe('Bearer first');
    writeFileSync(join(dir, 'token'), 'second\n');
    utimesSync(join(dir, 'token'), new Date(), new Date(Date.now() + 5000));
    expect(await header()).toBe('Bearer second');
  });

  it('leaves what it does not cover (exec plugins) to client-node', async () => {
    const exec = { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'aws' } };
    const file = {
      'current-context': 'c',
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
      clusters: [{ name: 'c', cluster: { server: 'https://eks.example' } }],
      users: [{ name: 'u', user: exec }],
    };
    expect(await parseKubeconfig(JSON.stringify(file), '/')).toBeUndefined();
    const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
    writeFileSync(join(dir, 'config'), JSON.stringify(file));
    const kc = await loadKubeAccess(join(dir, 'config'));
    expect(kc.constructor.name).toBe('KubeConfig');
    expect(kc.getCurrentCluster()?.server).toBe('https://eks.example');
  });

  it('fails clearly on a current context that does not exist', async () => {
    await expect(parseKubeconfig('{"current-context":"gone","contexts":[]}', '/')).rejects.toThrow(
      'no context named "gone"',
    );
  });
});
