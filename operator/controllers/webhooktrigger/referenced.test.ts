import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ObjectKey } from '../../runtime/types.ts';
import { ReferencedSecrets } from './referenced.ts';

const secret = (name: string, resourceVersion: string, data: Record<string, string>): V1Secret => ({
  metadata: { namespace: 'ns', name, resourceVersion },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
});

function store() {
  const secrets = new Map<string, V1Secret>();
  const reads: string[] = [];
  const get = async (k: ObjectKey) => {
    reads.push(k.name);
    return secrets.get(k.name);
  };
  return { secrets, reads, get };
}

describe('ReferencedSecrets', () => {
  it('reads once per resourceVersion and again after a change', async () => {
    const s = store();
    s.secrets.set('a', secret('a', '1', { token: 'one', other: 'x'.repeat(100) }));
    const r = new ReferencedSecrets(s.get);
    expect(await r.value({ namespace: 'ns', name: 'a' }, 'token', '1')).toEqual({
      exists: true,
      value: 'one',
    });
    expect(await r.value({ namespace: 'ns', name: 'a' }, 'token', '1')).toEqual({
      exists: true,
      value: 'one',
    });
    expect(s.reads).toEqual(['a']);
    s.secrets.set('a', secret('a', '2', { token: 'two' }));
    expect(await r.value({ namespace: 'ns', name: 'a' }, 'token', '2')).toEqual({
      exists: true,
      value: 'two',
    });
    expect(s.reads).toEqual(['a', 'a']);
  });

  it('tells a missing Secret from a missing key', async () => {
    const s = store();
    s.secrets.set('a', secret('a', '1', { other: 'x' }));
    const r = new ReferencedSecrets(s.get);
    expect(await r.value({ namespace: 'ns', name: 'a' }, 'token', '1')).toEqual({ exists: true });
    expect(await r.value({ namespace: 'ns', name: 'b' }, 'token', '1')).toEqual({ exists: false });
  });

  it('keeps at most maxEntries small values, dropping the least recently used', async () => {
    const s = store();
    for (const n of ['a', 'b', 'c']) s.secrets.set(n, secret(n, '1', { token: n }));
    s.secrets.set('big', secret('big', '1', { token: 'x'.repeat(5000) }));
    const r = new ReferencedSecrets(s.get, 2);
    const read = (name: string) => r.value({ namespace: 'ns', name }, 'token', '1');
    await read('a');
    await read('b');
    await read('a');
    await read('c');
    expect(r.size).toBe(2);
    s.reads.length = 0;
    await read('a');
    await read('c');
    await read('b');
    expect(s.reads).toEqual(['b']);
    expect((await read('big')).value).toHaveLength(5000);
    await read('big');
    expect(s.reads).toEqual(['b', 'big', 'big']);
  });
});
