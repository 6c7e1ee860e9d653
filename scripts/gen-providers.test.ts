import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  COMING,
  isServed,
  KEY_SHAPES,
  PROVIDERS,
  type Provider,
  WebhookTriggerSchema,
} from '../api/v1alpha1/index.ts';
import { drift, EXAMPLES_DIR, example, fill, providerTable, render, replayTable } from './gen-providers.ts';

const rows = PROVIDERS as readonly Provider[];

describe('provider examples', () => {
  it.each(rows.filter(isServed).map((p) => [p.name, p] as const))(
    '%s: a trigger that parses, a valid placeholder',
    (_, p) => {
      const docs = parseAllDocuments(example(p)).map((d) => d.toJS());
      const trigger = docs.find((d) => d.kind === 'WebhookTrigger');
      expect(WebhookTriggerSchema.parse(trigger).spec.auth.provider).toBe(p.name);
      const secret = docs.find((d) => d.kind === 'Secret');
      expect(secret !== undefined).toBe(p.secret === 'provider');
      if (!secret) return;
      const value: string = secret.stringData.signingSecret;
      expect(value).toContain(p.auth.type === 'hmac' && p.auth.keyEncoding !== 'utf8' ? '' : 'REPLACE-ME');
      expect(Buffer.byteLength(value)).toBeGreaterThanOrEqual(16);
      expect(value).toMatch(KEY_SHAPES[p.auth.type === 'hmac' ? p.auth.keyEncoding : 'utf8']);
    },
  );

  it('exist for served providers only', async () => {
    const files = [...(await render()).keys()].filter((f) => f.startsWith(EXAMPLES_DIR));
    expect(files.sort()).toEqual(
      rows
        .filter(isServed)
        .map((p) => `${EXAMPLES_DIR}/${p.name}.yaml`)
        .sort(),
    );
  });
});

describe('README tables', () => {
  it('fill replaces what is between the markers and nothing else', () => {
    const text =
      'a\n<!-- generated: providers (x) -->\nOLD-CONTENT\n<!-- end: providers -->\nb\n  <!-- generated: replays (y) -->\n  <!-- end: replays -->\nc\n';
    const out = fill(text);
    expect(out.startsWith('a\n<!-- generated: providers (x) -->\n| `auth.provider`')).toBe(true);
    expect(out).not.toContain('OLD-CONTENT');
    expect(out).toContain('\n<!-- end: providers -->\nb\n');
    expect(out.endsWith('\n  <!-- end: replays -->\nc\n')).toBe(true);
    expect(fill(out)).toBe(out);
    expect(() => fill('no markers')).toThrow('no "<!-- generated: providers');
  });

  it('list every provider, the coming ones, and every served provider in the replay table', () => {
    const table = providerTable();
    for (const p of rows) expect(table).toContain(`[\`${p.name}\`](${p.docs})`);
    for (const c of COMING) expect(table).toContain(`| ${c.title} | coming (issue 19) |`);
    const replays = replayTable();
    for (const p of rows.filter(isServed)) expect(replays.split(`\`${p.name}\``).length).toBe(2);
  });

  it('the checked-in files are what the generator writes', async () => {
    expect(await drift(await render())).toEqual([]);
    const changed = new Map([[`${EXAMPLES_DIR}/github.yaml`, 'other']]);
    expect(await drift(changed)).toContain(`${EXAMPLES_DIR}/github.yaml: differs`);
  });
});
