import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Metrics } from './metrics.ts';

describe('condition gauge', () => {
  it('replaces an object’s series on set and removes them on delete', async () => {
    const registry = new Registry();
    const m = new Metrics(registry);
    const key = { namespace: 'ns', name: 't' };
    m.conditions.set('WebhookTrigger', key, [
      { type: 'Ready', status: 'False' },
      { type: 'Stalled', status: 'True' },
    ]);
    m.conditions.set('WebhookTrigger', { namespace: 'ns', name: 'other' }, [
      { type: 'Ready', status: 'True' },
    ]);
    m.conditions.set('WebhookTrigger', key, [{ type: 'Ready', status: 'True' }]);
    const series = async () =>
      (await m.condition.get()).values
        .map((v) => `${v.labels.name}:${v.labels.type}=${v.labels.status}`)
        .sort();
    expect(await series()).toEqual(['other:Ready=True', 't:Ready=True']);
    m.conditions.delete('WebhookTrigger', key);
    expect(await series()).toEqual(['other:Ready=True']);
    expect(await registry.metrics()).toContain(
      'hookgate_condition{kind="WebhookTrigger",namespace="ns",name="other"',
    );
  });
});
