import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, duration, FlagSet } from './config.ts';

const flags = new FlagSet('demo [flags]', {
  'base-url': { value: 'URL', help: 'where it is', schema: z.url() },
  'lease-duration': { value: 'DURATION', help: 'how long', schema: duration, default: '15s' },
  'own-namespace': {
    value: 'NS',
    help: 'from the pod',
    schema: z.string(),
    default: (env) => env.POD_NAMESPACE || 'fallback',
    defaultText: '$POD_NAMESPACE, else fallback',
  },
  extra: { value: 'X', help: 'optional', schema: z.string().optional() },
});

describe('FlagSet', () => {
  it('keys each flag by its camelCase name; flags win over HOOKGATE_ variables, which win over defaults', () => {
    const env = { HOOKGATE_BASE_URL: 'https://env.test', HOOKGATE_LEASE_DURATION: '1m', POD_NAMESPACE: 'ns' };
    expect(flags.parse([], env)).toEqual({
      baseUrl: 'https://env.test',
      leaseDuration: 60_000,
      ownNamespace: 'ns',
      extra: undefined,
    });
    expect(flags.parse(['--lease-duration=2s', '--base-url', 'https://flag.test'], env)).toMatchObject({
      baseUrl: 'https://flag.test',
      leaseDuration: 2000,
    });
    expect(flags.parse(['--base-url=https://x.test'], {})).toMatchObject({
      leaseDuration: 15_000,
      ownNamespace: 'fallback',
    });
  });

  it('names a bad or missing value by its flag and its variable', () => {
    expect(() => flags.parse(['--lease-duration=soon'], {})).toThrow(ConfigError);
    expect(() => flags.parse(['--lease-duration=soon'], {})).toThrow(
      /--base-url \(HOOKGATE_BASE_URL\): is required\n {2}--lease-duration \(HOOKGATE_LEASE_DURATION\): must be a duration/,
    );
    expect(() => flags.parse(['--nope=1'], {})).toThrow(/Unknown option '--nope'/);
  });

  it('writes the usage text from the same table: every flag, its value, help and default', () => {
    const usage = flags.usage();
    expect(usage.split('\n').slice(0, 7)).toEqual([
      'Usage: demo [flags]',
      '',
      '  --base-url URL             where it is (required)',
      '  --lease-duration DURATION  how long (default 15s)',
      '  --own-namespace NS         from the pod (default $POD_NAMESPACE, else fallback)',
      '  --extra X                  optional',
      '',
    ]);
    expect(usage).toContain('(--base-url is HOOKGATE_BASE_URL)');
  });

  it('wraps long help under its flag, within 100 columns', () => {
    const long = new FlagSet('x', {
      a: { value: 'N', help: 'word '.repeat(40).trim(), schema: z.string(), default: '1' },
    });
    const lines = long.usage().split('\n').slice(2, -3);
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(100);
    expect(lines[1]).toMatch(/^ {9}word/);
    expect(lines.at(-1)).toMatch(/\(default 1\)$/);
  });

  it('writes a Markdown table of flag, variable, default and help', () => {
    expect(flags.markdown().split('\n')).toEqual([
      '| flag | environment | default | what it sets |',
      '| --- | --- | --- | --- |',
      '| `--base-url` | `HOOKGATE_BASE_URL` | required | where it is |',
      '| `--lease-duration` | `HOOKGATE_LEASE_DURATION` | 15s | how long |',
      '| `--own-namespace` | `HOOKGATE_OWN_NAMESPACE` | $POD_NAMESPACE, else fallback | from the pod |',
      '| `--extra` | `HOOKGATE_EXTRA` |  | optional |',
    ]);
  });
});
