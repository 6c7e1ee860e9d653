import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Manager } from './manager.ts';
import type { Resource } from './types.ts';

describe('Manager caches', () => {
  const secrets: Resource = { group: '', version: 'v1', plural: 'secrets', kind: 'Secret' };
  const manager = () =>
    new Manager({ kubeConfig: new KubeConfig(), log: pino({ level: 'silent' }), leaderElection: false });

  it('shares one informer per declaration; metadata-only is another one; a second transform is refused', () => {
    const m = manager();
    const full = m.cache(secrets);
    expect(m.cache({ ...secrets })).toBe(full);
    const keep = (o: object) => o;
    const meta = m.cache({ ...secrets, metadataOnly: true, transform: keep });
    expect(meta).not.toBe(full);
    expect(m.cache({ ...secrets, metadataOnly: true, transform: keep })).toBe(meta);
    expect(() => m.cache({ ...secrets, metadataOnly: true, transform: (o) => ({ ...o }) })).toThrow(
      'declared twice with different transforms',
    );
  });
});
