// What a WebhookTrigger references, found in its schema, and the CEL the chart checks it with.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigMapKeyRef, SecretKeyRef } from './common.ts';
import { celNames, referencePaths, TRIGGER_REFERENCES } from './references.ts';

describe("a WebhookTrigger's references", () => {
  it('include every secretRef of today’s spec', () => {
    expect(TRIGGER_REFERENCES).toEqual(
      expect.arrayContaining([
        { kind: 'Secret', steps: [{ field: 'auth' }, { field: 'bearer' }, { field: 'secretRef' }] },
        { kind: 'Secret', steps: [{ field: 'auth' }, { field: 'signature' }, { field: 'secretRef' }] },
      ]),
    );
    const cel = celNames(TRIGGER_REFERENCES, 'Secret');
    for (const part of [
      '[?object.spec.?auth.?bearer.?secretRef.?name]',
      '[?object.spec.?auth.?basic.?secretRef.?name]',
      '[?object.spec.?auth.?signature.?secretRef.?name]',
      'object.spec.?auth.?publicKeys.orValue([]).map(e0, [?e0.?secretRef.?name]).flatten()',
      '[?object.spec.?auth.?oidc.?jwks.?secretRef.?name]',
      'object.spec.?handshakes.orValue([]).map(e0, [?e0.?verifyToken.?secretRef.?name]).flatten()',
    ])
      expect(cel).toContain(part);
  });

  const schema = z
    .object({
      plain: z.object({ secretRef: SecretKeyRef.optional() }).optional(),
      list: z
        .array(
          z.object({ secretRef: SecretKeyRef, keys: z.array(z.object({ configMapRef: ConfigMapKeyRef })) }),
        )
        .optional(),
      map: z.record(z.string(), z.object({ secretRef: SecretKeyRef })).prefault({}),
      either: z.discriminatedUnion('type', [
        z.object({ type: z.literal('a'), secretRef: SecretKeyRef }),
        z.object({ type: z.literal('b'), secretRef: SecretKeyRef.optional(), other: z.string() }),
      ]),
    })
    .strict();

  it('are found wherever they sit: objects, lists, maps, unions (once per path)', () => {
    expect(referencePaths(schema)).toEqual([
      { kind: 'Secret', steps: [{ field: 'plain' }, { field: 'secretRef' }] },
      { kind: 'Secret', steps: [{ field: 'list', each: 'list' }, { field: 'secretRef' }] },
      {
        kind: 'ConfigMap',
        steps: [{ field: 'list', each: 'list' }, { field: 'keys', each: 'list' }, { field: 'configMapRef' }],
      },
      { kind: 'Secret', steps: [{ field: 'map', each: 'map' }, { field: 'secretRef' }] },
      { kind: 'Secret', steps: [{ field: 'either' }, { field: 'secretRef' }] },
    ]);
  });

  it('become CEL lists of names, flattened through lists and maps', () => {
    const paths = referencePaths(schema);
    expect(celNames(paths, 'Secret').split(' + ')).toEqual([
      '[?object.spec.?plain.?secretRef.?name]',
      'object.spec.?list.orValue([]).map(e0, [?e0.?secretRef.?name]).flatten()',
      '[object.spec.?map.orValue({})].map(m0, m0.map(e0, [?m0[e0].?secretRef.?name]).flatten()).flatten()',
      '[?object.spec.?either.?secretRef.?name]',
    ]);
    expect(celNames(paths, 'ConfigMap')).toBe(
      'object.spec.?list.orValue([]).map(e0, e0.?keys.orValue([]).map(e1, [?e1.?configMapRef.?name]).flatten()).flatten()',
    );
    expect(celNames([], 'Secret')).toBe('[]');
  });

  it('must be named secretRef or configMapRef, so that none is missed', () => {
    expect(() => referencePaths(z.object({ tokenFrom: SecretKeyRef }))).toThrow(
      'spec.tokenFrom: a Secret or ConfigMap reference is a property named secretRef or configMapRef',
    );
    expect(() => referencePaths(z.object({ keys: z.array(ConfigMapKeyRef) }))).toThrow('spec.keys');
  });
});
