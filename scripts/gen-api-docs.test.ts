import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { withRules } from '../api/v1alpha1/index.ts';
import { renderApiDocs } from './gen-api-docs.ts';
import { crd, crds } from './gen-crds.ts';

// A kind made for the test: whatever a field of the API can be, the reference must say.
const Spec = z
  .object({
    mode: z.enum(['a', 'b']).default('a').describe('How | it runs.'),
    limits: withRules(
      z
        .object({
          low: z.number().int().min(1).max(10).optional(),
          high: z.number().int().min(1).max(10).optional(),
        })
        .strict(),
      {
        rule: 'self.low <= self.high || !has(self.low)',
        message: 'low must not exceed high',
        check: () => true,
      },
    ).describe('Bounds.'),
    items: z
      .array(z.object({ name: z.string().regex(/^[a-z`]+$/) }).strict())
      .max(4)
      .optional(),
    labels: z.record(z.string(), z.string()).optional(),
  })
  .strict();
const Status = z.object({ observedGeneration: z.number().int().default(-1) }).strict();
const names = { kind: 'Example', plural: 'examples', singular: 'example', shortNames: ['hgex'] };
const doc = renderApiDocs([crd(names, 'Example is made for a test.', Spec, Status, [])]);
const row = (path: string) => doc.split('\n').find((l) => l.startsWith(`| \`${path}\` |`));

describe('the API reference', () => {
  it('has a row per field, nested fields as paths, list elements as []', () => {
    for (const path of [
      'spec.mode',
      'spec.limits',
      'spec.limits.low',
      'spec.items',
      'spec.items[].name',
      'spec.labels',
    ])
      expect(row(path), path).toBeDefined();
    expect(row('status.observedGeneration')).toContain('`-1`');
  });

  it("says each field's type, default, description and rules, escaped for a table", () => {
    expect(row('spec.mode')).toBe('| `spec.mode` | `string` | `"a"` | How \\| it runs. | one of `a`, `b` |');
    expect(row('spec.limits.low')).toContain('| `integer (int32)` |  |  | value 1–10 |');
    expect(row('spec.limits')).toContain(
      'low must not exceed high (`self.low <= self.high \\|\\| !has(self.low)`)',
    );
    expect(row('spec.items')).toContain('| `[]object` |');
    expect(row('spec.items[].name')).toContain('required; matches ``^[a-z`]+$``');
    expect(row('spec.labels')).toContain('| `map[string]string` |');
  });

  it('covers every field of the real kinds', () => {
    const real = renderApiDocs(crds());
    for (const path of [
      'spec.auth.signature.scheme',
      'spec.jobTemplate.spec.template',
      'status.conditions[].reason',
    ])
      expect(real).toContain(`| \`${path}\` |`);
  });
});
