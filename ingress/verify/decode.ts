import {
  type Encoding,
  KEY_SHAPES,
  type KeyEncoding,
  type TimestampFormat,
} from '../../api/v1alpha1/index.ts';

// Strict decoding of what senders send and what secrets hold: Buffer.from silently drops what it
// cannot decode, so every text is matched against its exact shape first.

const ALPHABET: Record<Encoding, string> = {
  hex: '[0-9a-fA-F]',
  base64: '[A-Za-z0-9+/]',
  base64url: '[A-Za-z0-9_-]',
};
const shapes = new Map<string, RegExp>();

/** The exact text of `bytes` bytes in `encoding` (base64: with or without its padding). */
export function shapeOf(encoding: Encoding, bytes: number): RegExp {
  const id = `${encoding}/${bytes}`;
  let shape = shapes.get(id);
  if (!shape) {
    const chars = encoding === 'hex' ? bytes * 2 : Math.ceil((bytes * 4) / 3);
    const padding = encoding === 'hex' ? 0 : 4 * Math.ceil(bytes / 3) - chars;
    shape = new RegExp(`^${ALPHABET[encoding]}{${chars}}${padding ? `(={${padding}})?` : ''}$`);
    shapes.set(id, shape);
  }
  return shape;
}

/** A digest of exactly `bytes` bytes, or undefined (`shape`: shapeOf's, when the caller has it). */
export function decodeDigest(
  text: string,
  encoding: Encoding,
  bytes: number,
  shape = shapeOf(encoding, bytes),
): Buffer | undefined {
  return shape.test(text) ? Buffer.from(text, encoding) : undefined;
}

const WHSEC = 'whsec_';

/**
 * The HMAC key a secret's text stands for; undefined when the text is not what its encoding says
 * (the operator refuses such a secret) or decodes to nothing: an empty key would make every
 * signature computable by anyone.
 */
export function decodeKey(secret: string, encoding: KeyEncoding): Buffer | string | undefined {
  if (encoding === 'utf8') return secret.length > 0 ? secret : undefined;
  if (!KEY_SHAPES[encoding].test(secret)) return undefined;
  const text = encoding === 'whsec' && secret.startsWith(WHSEC) ? secret.slice(WHSEC.length) : secret;
  const key = Buffer.from(text, encoding === 'hex' ? 'hex' : 'base64');
  return key.length > 0 ? key : undefined;
}

const INTEGER = /^\d{1,16}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** Milliseconds since the epoch of a timestamp as sent, or undefined. */
export function parseTimestamp(text: string, format: TimestampFormat): number | undefined {
  if (format === 'rfc3339') {
    if (!RFC3339.test(text)) return undefined;
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? undefined : ms;
  }
  if (!INTEGER.test(text)) return undefined;
  return format === 'seconds' ? Number(text) * 1000 : Number(text);
}

/** A timestamp of `format` for `now`, as a sender writes it. */
export function formatTimestamp(now: number, format: TimestampFormat): string {
  if (format === 'rfc3339') return new Date(now).toISOString();
  return String(format === 'seconds' ? Math.floor(now / 1000) : now);
}
