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
export const port = z
  .string()
  .regex(/^\d{1,5}$/, 'must be a port number (0-65535, 0 = off)')
  .transform(Number)
  .refine((n) => n <= 65535, 'must be a port number (0-65535, 0 = off)');
export const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a namespace name (RFC 1123 label)')
  .max(63);
export const commaList = z.string().transform((s) =>
  s
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean),
);

export const envName = (flag: string) => `HOOKGATE_${flag.toUpperCase().replaceAll('-', '_')}`;

/**
 * One flag, said once (Flux's BindFlags): the parser, the usage text and docs/flags.md are all made
 * from it. Its config key is the name in camelCase (`--lease-duration` is `leaseDuration`), its
 * environment twin `envName(name)`.
 */
export interface Flag {
  /** What the value looks like in the usage text: URL, DURATION, N, a,b. */
  value: string;
  help: string;
  schema: z.ZodType;
  /** The default as one would type it, or read from the environment the process runs in. */
  default?: string | ((env: NodeJS.ProcessEnv) => string | undefined);
  /** How the usage text says a default that is not a plain string. */
  defaultText?: string;
}

type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;
const camel = (name: string) => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

type Shape<F extends Record<string, Flag>> = { [K in keyof F & string as Camel<K>]: F[K]['schema'] };

/** A component's flags: parses argv and the environment, and writes its usage text and docs. */
export class FlagSet<F extends Record<string, Flag>> {
  /** The flags' values by config key; refine it for rules across flags. */
  readonly schema: z.ZodObject<Shape<F>>;

  constructor(
    /** The usage line, e.g. `hookgate operator [flags]`. */
    readonly usageLine: string,
    readonly flags: F,
  ) {
    const shape = Object.fromEntries(Object.entries(flags).map(([name, f]) => [camel(name), f.schema]));
    this.schema = z.object(shape) as z.ZodObject<Shape<F>>;
  }

  /**
   * Flags win over environment variables, which win over defaults; a ConfigError names each bad
   * flag with its environment twin.
   */
  parse<S extends z.ZodType = z.ZodObject<Shape<F>>>(
    argv: string[],
    env: NodeJS.ProcessEnv,
    schema: S = this.schema as unknown as S,
  ): z.output<S> {
    const values = this.argv(argv);
    const raw: Record<string, unknown> = {};
    for (const [name, f] of Object.entries(this.flags)) {
      const fallback = typeof f.default === 'function' ? f.default(env) : f.default;
      raw[camel(name)] = values[name] ?? env[envName(name)] ?? fallback;
    }
    const parsed = schema.safeParse(raw);
    if (parsed.success) return parsed.data;
    const byKey = new Map(Object.keys(this.flags).map((name) => [camel(name), name]));
    const lines = parsed.error.issues.map((i) => {
      const key = String(i.path[0]);
      const flag = byKey.get(key) ?? key;
      const missing = i.code === 'invalid_type' && raw[key] === undefined;
      return `--${flag} (${envName(flag)}): ${missing ? 'is required' : i.message}`;
    });
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }

  /** The text `--help` prints. */
  usage(): string {
    const left = Object.entries(this.flags).map(([name, f]) => `  --${name} ${f.value}`);
    const width = Math.max(...left.map((l) => l.length)) + 2;
    const lines = Object.values(this.flags).flatMap((f, i) => {
      const [first = '', ...rest] = wrap(`${f.help}${this.defaultNote(f)}`, 100 - width);
      return [left[i]!.padEnd(width) + first, ...rest.map((r) => ' '.repeat(width) + r)];
    });
    const name = Object.keys(this.flags)[0] ?? '';
    const footer = `Every flag can also be set in the environment: HOOKGATE_ and its name in upper snake case (--${name} is ${envName(name)}).`;
    return [`Usage: ${this.usageLine}`, '', ...lines, '', ...wrap(footer, 100)].join('\n');
  }

  /** A Markdown table of the flags (docs/flags.md). */
  markdown(): string {
    const cell = (s: string) => s.replaceAll('|', '\\|');
    const rows = Object.entries(this.flags).map(
      ([name, f]) =>
        `| \`--${name}\` | \`${envName(name)}\` | ${cell(this.defaultOf(f) ?? (this.required(f) ? 'required' : ''))} | ${cell(f.help)} |`,
    );
    return ['| flag | environment | default | what it sets |', '| --- | --- | --- | --- |', ...rows].join(
      '\n',
    );
  }

  private argv(argv: string[]): Record<string, string | undefined> {
    try {
      const options = Object.fromEntries(
        Object.keys(this.flags).map((f) => [f, { type: 'string' as const }]),
      );
      return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values as Record<
        string,
        string | undefined
      >;
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
  }

  private defaultOf(f: Flag): string | undefined {
    return f.defaultText ?? (typeof f.default === 'string' ? f.default : undefined);
  }

  private required(f: Flag): boolean {
    return f.default === undefined && !f.schema.safeParse(undefined).success;
  }

  private defaultNote(f: Flag): string {
    const d = this.defaultOf(f);
    if (d !== undefined) return ` (default ${d})`;
    return this.required(f) ? ' (required)' : '';
  }
}

/** Words of `text` in lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

/** The flags both components have, spelled once. */
export const COMMON_FLAGS = {
  'log-level': {
    value: 'LEVEL',
    help: 'trace, debug, info, warn, error or fatal',
    schema: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']),
    default: (env) => env.LOG_LEVEL || 'info',
    defaultText: '$LOG_LEVEL, else info',
  },
  kubeconfig: {
    value: 'PATH',
    help: 'the kubeconfig file to use',
    schema: z.string().min(1).optional(),
    defaultText: 'in-cluster, else $KUBECONFIG or ~/.kube/config',
  },
} satisfies Record<string, Flag>;

/** True when the command line asks for the usage text. */
export const wantsHelp = (argv: readonly string[]) => argv.includes('--help') || argv.includes('-h');
