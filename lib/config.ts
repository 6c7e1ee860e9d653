import { parseArgs } from 'node:util';
import { z } from 'zod';

// Both components read configuration the same way: flags win over environment variables, which win
// over defaults. Every flag has an env twin (HOOKGATE_ + upper snake case) so the chart can set either.

export class ConfigError extends Error {}

const DURATION = /^(\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a Go-style duration ("24h", "1h30m", "500ms") into milliseconds. */
export function parseDuration(text: string): number {
  if (!DURATION.test(text)) throw new Error(`invalid duration "${text}" (use e.g. 30s, 15m, 24h)`);
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) ms += Number(n) * UNIT_MS[unit!]!;
  return ms;
}

export const duration = z
  .string()
  .regex(DURATION, 'must be a duration such as 500ms, 30s or 24h')
  .transform(parseDuration)
  .refine((ms) => ms > 0, 'must be greater than zero');
const QUANTITY = /^(\d+)(Ki|Mi|Gi)?$/;
const UNIT_BYTES: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };

/** A byte count as Kubernetes writes quantities: "65536", "512Ki", "64Mi", "1Gi". */
export const byteSize = z
  .string()
  .regex(QUANTITY, 'must be a byte count such as 1048576, 512Ki or 64Mi')
  .transform((text) => {
    const [, n, unit] = text.match(QUANTITY)!;
    return Number(n) * (unit ? UNIT_BYTES[unit]! : 1);
  });
export const port = z
  .string()
  .regex(/^\d{1,5}$/, 'must be a port number (0-65535, 0 = off)')
  .transform(Number)
  .refine((n) => n <= 65535, 'must be a port number (0-65535, 0 = off)');
export const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a namespace name (RFC 1123 label)')
  .max(63);
export const logLevel = z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info');
export const commaList = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean),
  );

export const envName = (flag: string) => `HOOKGATE_${flag.toUpperCase().replaceAll('-', '_')}`;

/**
 * Reads `flags` (flag name → schema key) from argv and the environment, lets `defaults` fill what
 * depends on the environment, and validates with `schema`; a ConfigError names each bad flag.
 */
export function loadFlags<S extends z.ZodType>(
  argv: string[],
  env: NodeJS.ProcessEnv,
  flags: Record<string, string>,
  schema: S,
  defaults: (raw: Record<string, unknown>) => void = () => {},
): z.output<S> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.keys(flags).map((f) => [f, { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const raw: Record<string, unknown> = {};
  for (const [flag, key] of Object.entries(flags)) raw[key] = values[flag] ?? env[envName(flag)];
  raw.logLevel ??= env.LOG_LEVEL;
  defaults(raw);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const keyToFlag = Object.fromEntries(Object.entries(flags).map(([f, k]) => [k, f]));
    const lines = parsed.error.issues.map((i) => {
      const flag = keyToFlag[String(i.path[0])] ?? String(i.path[0]);
      const missing = i.code === 'invalid_type' && raw[String(i.path[0])] === undefined;
      return `--${flag} (${envName(flag)}): ${missing ? 'is required' : i.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return parsed.data;
}
