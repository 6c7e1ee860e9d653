// The GitOps examples that sync a team's triggers say what docs/gitops.md says they do: Flux waits
// for kstatus health after hookgate is installed, Argo CD syncs with pruning, and the page names them.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const read = (path: string) => readFileSync(fileURLToPath(new URL(`../${path}`, import.meta.url)), 'utf8');

describe('examples/gitops', () => {
  it('Flux Kustomization: waits for health (kstatus), with a timeout, after hookgate, pruning only its own', () => {
    const k = parse(read('examples/gitops/flux-kustomization.yaml'));
    expect(k).toMatchObject({ apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization' });
    expect(k.spec).toMatchObject({ wait: true, prune: true, dependsOn: [{ name: expect.any(String) }] });
    expect(k.spec.timeout).toMatch(/^\d+m$/);
  });

  it('Argo CD Application: automated sync with pruning and server-side apply', () => {
    const a = parse(read('examples/gitops/argocd-webhooks-application.yaml'));
    expect(a).toMatchObject({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application' });
    expect(a.spec.syncPolicy).toEqual({
      automated: { prune: true, selfHeal: true },
      syncOptions: ['ServerSideApply=true'],
    });
  });

  it('docs/gitops.md names every GitOps example and the files it tells users to apply', () => {
    const doc = read('docs/gitops.md');
    for (const f of [
      'flux-kustomization.yaml',
      'flux-helmrelease.yaml',
      'argocd-application.yaml',
      'argocd-webhooks-application.yaml',
    ])
      expect(doc).toContain(`examples/gitops/${f}`);
    for (const f of [
      'deploy/argocd/argocd-cm.yaml',
      'deploy/install.yaml',
      'examples/referenced-secret.yaml',
    ])
      expect(doc).toContain(f);
  });
});
