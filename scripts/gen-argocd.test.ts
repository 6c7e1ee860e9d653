import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ARGOCD_DIR, actionsOf, KINDS, renderArgoCd, TREE } from './gen-argocd.ts';

const ROOT = resolve(import.meta.dirname, '..');
const cm = () => parse(renderArgoCd().get(`${ARGOCD_DIR}/argocd-cm.yaml`)!).data as Record<string, string>;

describe('argocd-cm.yaml', () => {
  it('has a health check per kind, the same script as the tree', () => {
    const health = readFileSync(join(ROOT, ARGOCD_DIR, 'health.lua'), 'utf8');
    for (const kind of KINDS) {
      expect(cm()[`resource.customizations.health.hookgate.io_${kind}`]).toBe(health);
      expect(readFileSync(join(ROOT, TREE, kind, 'health.lua'), 'utf8')).toBe(health);
    }
  });

  it("has the WebhookTrigger actions in Argo CD's format: discovery.lua and named definitions", () => {
    const actions = parse(cm()['resource.customizations.actions.hookgate.io_WebhookTrigger']!);
    const tree = actionsOf('WebhookTrigger')!;
    expect(actions['discovery.lua']).toBe(tree.discovery);
    expect(actions.definitions.map((d: { name: string }) => d.name)).toEqual(['resume', 'rotate', 'suspend']);
    for (const d of actions.definitions) expect(d['action.lua']).toBe(tree.actions.get(d.name));
  });

  it('has no actions for Workflows, and nothing else', () => {
    expect(actionsOf('Workflow')).toBeUndefined();
    expect(Object.keys(cm()).sort()).toEqual([
      'resource.customizations.actions.hookgate.io_WebhookTrigger',
      'resource.customizations.health.hookgate.io_WebhookTrigger',
      'resource.customizations.health.hookgate.io_Workflow',
    ]);
  });
});
