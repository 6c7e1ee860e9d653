import { createHmac, randomUUID } from 'node:crypto';
import {
  DIGEST_BYTES,
  type HmacVerifier,
  type TemplatePart,
  templateParts,
} from '../../api/v1alpha1/index.ts';
import {
  digestsEqual,
  fail,
  fieldAt,
  header,
  scalarText,
  signedOk,
  type VerifyReason,
  type VerifyRequest,
  type VerifyResult,
} from './common.ts';
import { decodeDigest, decodeKey, formatTimestamp, parseTimestamp, shapeOf } from './decode.ts';
import { sortedForm } from './form.ts';

// The one symmetric verifier: every HMAC sender, whatever its headers, algorithm, encodings,
// signature list, signed content and timestamp, is a configuration of this (api/v1alpha1/verifier.ts).

/** More entries in one signature value are refused: senders send one to three. */
export const MAX_SIGNATURE_ENTRIES = 16;

interface Compiled {
  parts: TemplatePart[];
  bytes: number;
  /** The text of one signature (shapeOf), built once per verifier. */
  shape: RegExp;
  /** Whether anything is read from the parsed body (most verifiers never parse it). */
  readsFields: boolean;
}
const compiledOf = new WeakMap<HmacVerifier, Compiled>();
function compile(v: HmacVerifier): Compiled {
  let c = compiledOf.get(v);
  if (!c) {
    const parts = templateParts(v.content);
    const readsFields =
      'field' in v.signature ||
      (v.timestamp !== undefined && 'field' in v.timestamp.source) ||
      parts.some((p) => 'field' in p);
    const bytes = DIGEST_BYTES[v.algorithm];
    c = { parts, bytes, shape: shapeOf(v.encoding, bytes), readsFields };
    compiledOf.set(v, c);
  }
  return c;
}

/** What one request offers: its JSON body parsed at most once, and only when a field is read. */
function jsonOf(req: VerifyRequest): () => unknown {
  let parsed: { value: unknown } | undefined;
  return () => {
    if (!parsed) {
      try {
        parsed = { value: req.json ? req.json() : JSON.parse(req.body.toString('utf8')) };
      } catch {
        parsed = { value: undefined };
      }
    }
    return parsed.value;
  };
}

interface Read {
  candidates: Buffer[];
  /** The timestamp entry of a signature list (Stripe's `t`). */
  timestamp?: string;
}

/** The decodable signatures in the values; undefined when a value is not of the verifier's shape. */
function readSignatures(values: string[], v: HmacVerifier, { bytes, shape }: Compiled): Read | undefined {
  const read: Read = { candidates: [] };
  const add = (text: string) => {
    const digest = decodeDigest(text, v.encoding, bytes, shape);
    if (digest) read.candidates.push(digest);
  };
  const stamp = v.timestamp && 'entry' in v.timestamp.source ? v.timestamp.source.entry : undefined;
  for (const value of values) {
    if (!v.list) {
      if (v.prefix && !value.startsWith(v.prefix)) return undefined;
      add(v.prefix ? value.slice(v.prefix.length) : value);
      continue;
    }
    const entries = value.split(v.list.separator, MAX_SIGNATURE_ENTRIES + 1);
    if (entries.length > MAX_SIGNATURE_ENTRIES) return undefined;
    for (const entry of entries) {
      const at = entry.indexOf(v.list.assign);
      if (at < 0) continue;
      const key = entry.slice(0, at).trim();
      if (key === stamp) {
        // Two timestamps would make "the" signed one ambiguous.
        if (read.timestamp !== undefined) return undefined;
        read.timestamp = entry.slice(at + 1).trim();
      } else if (key === v.list.key) add(entry.slice(at + 1).trim());
    }
  }
  return read;
}

interface Values {
  timestamp?: string;
  id?: string;
  json: () => unknown;
}

/** The signed message's parts in order, or why they cannot be had. */
function content(
  parts: TemplatePart[],
  req: VerifyRequest,
  values: Values,
): (Buffer | string)[] | VerifyReason {
  const out: (Buffer | string)[] = [];
  for (const part of parts) {
    let value: Buffer | string | undefined;
    if ('literal' in part) value = part.literal;
    else if ('body' in part) value = req.body;
    else if ('timestamp' in part) value = values.timestamp;
    else if ('id' in part) value = values.id;
    else if ('method' in part) value = req.method ?? 'POST';
    else if ('url' in part) {
      // A route without its URL cannot check a URL signature: refuse rather than guess from Host.
      if (req.url === undefined) return 'not_configured';
      value = req.url;
    } else if ('form' in part) value = sortedForm(req.body);
    else if ('header' in part) {
      value = header(req, part.header);
      if (value === undefined) return 'missing_signature';
    } else value = scalarText(fieldAt(values.json(), part.field));
    if (value === undefined) return 'malformed_signature';
    out.push(value);
  }
  return out;
}

function digest(v: HmacVerifier, key: Buffer | string, parts: (Buffer | string)[]): Buffer {
  const h = createHmac(v.algorithm, key);
  for (const part of parts) h.update(part);
  return h.digest();
}

/** True when any secret, as a key, signs `message` to any candidate. */
function signedByAny(v: HmacVerifier, secrets: string[], candidates: Buffer[], message: (Buffer | string)[]) {
  for (const secret of secrets) {
    const key = decodeKey(secret, v.keyEncoding);
    if (key === undefined) continue;
    const expected = digest(v, key, message);
    for (const candidate of candidates) if (digestsEqual(expected, candidate)) return true;
  }
  return false;
}

const NO_JSON = () => undefined;

export function verifyHmac(
  v: HmacVerifier,
  secrets: string[],
  req: VerifyRequest,
  now: number,
): VerifyResult {
  const compiled = compile(v);
  const { parts, readsFields } = compiled;
  const json = readsFields ? jsonOf(req) : NO_JSON;
  // Presence first (missing_signature), then shape (malformed_signature), then the HMAC.
  const values: string[] = [];
  if ('headers' in v.signature) {
    for (const name of v.signature.headers) {
      const value = header(req, name);
      if (value !== undefined) values.push(value);
    }
  } else {
    const value = scalarText(fieldAt(json(), v.signature.field));
    if (value !== undefined) values.push(value);
  }
  const source = v.timestamp?.source;
  const stampHeader = source && 'header' in source ? header(req, source.header) : undefined;
  const id = v.id ? header(req, v.id.header) : undefined;
  if (values.length === 0 || (source && 'header' in source && stampHeader === undefined)) {
    return fail('missing_signature');
  }
  if (v.id && id === undefined) return fail('missing_signature');
  const read = readSignatures(values, v, compiled);
  if (!read || read.candidates.length === 0) return fail('malformed_signature');
  let stamp: string | undefined;
  let at: number | undefined;
  if (v.timestamp && source) {
    stamp =
      'header' in source
        ? stampHeader
        : 'entry' in source
          ? read.timestamp
          : scalarText(fieldAt(json(), source.field));
    at = stamp === undefined ? undefined : parseTimestamp(stamp, v.timestamp.format);
    if (at === undefined) return fail('malformed_signature');
  }
  const message = content(parts, req, { timestamp: stamp, id, json });
  if (typeof message === 'string') return fail(message);
  if (!signedByAny(v, secrets, read.candidates, message)) return fail('invalid_signature');
  // Signature before time, so timestamp_out_of_tolerance only ever describes a genuine (replayed or
  // skewed) delivery. Stale and future timestamps alike: a replay window in both directions.
  if (v.timestamp && Math.abs(now - at!) > v.timestamp.toleranceSeconds * 1000) {
    return fail('timestamp_out_of_tolerance');
  }
  // A signed id names the delivery across the sender's re-signed retries (Standard Webhooks).
  return id !== undefined ? { ok: true, signed: id } : signedOk(message);
}

export interface SignOptions {
  /** The delivery id to sign (`{id}`); a random one when the verifier signs one and none is given. */
  id?: string;
  /** `{url}`: the trigger's published URL (and query string). */
  url?: string;
  method?: string;
  /** Other request headers the content names (`{header:Name}`). */
  headers?: Record<string, string>;
}

/** The headers a sender sets so that `verifyHmac` accepts `body` at `now`. */
export function signHmac(
  v: HmacVerifier,
  secret: string,
  body: Buffer,
  now: number,
  options: SignOptions = {},
): Record<string, string> {
  if (!('headers' in v.signature)) {
    throw new Error('this sender signs a field of its body: put the signature in the body yourself');
  }
  const headers: Record<string, string> = {};
  const source = v.timestamp?.source;
  let stamp = v.timestamp && formatTimestamp(now, v.timestamp.format);
  if (source && 'header' in source) headers[source.header] = stamp!;
  if (source && 'field' in source)
    stamp = scalarText(fieldAt(JSON.parse(body.toString('utf8')), source.field));
  const id = v.id ? (options.id ?? `msg_${randomUUID()}`) : undefined;
  if (v.id) headers[v.id.header] = id!;
  const req: VerifyRequest = {
    headers: lowerCase({ ...options.headers, ...headers }),
    body,
    method: options.method ?? 'POST',
    ...(options.url !== undefined ? { url: options.url } : {}),
  };
  const message = content(compile(v).parts, req, { timestamp: stamp, id, json: jsonOf(req) });
  if (typeof message === 'string')
    throw new Error(`cannot sign: ${message} (give the url and headers it needs)`);
  const key = decodeKey(secret, v.keyEncoding);
  if (key === undefined) throw new Error(`the secret is not a ${v.keyEncoding} key`);
  const text = digest(v, key, message).toString(v.encoding);
  const [name] = v.signature.headers;
  if (!v.list) headers[name!] = `${v.prefix ?? ''}${text}`;
  else {
    const { separator, assign, key: entry } = v.list;
    const first = source && 'entry' in source ? `${source.entry}${assign}${stamp}${separator}` : '';
    headers[name!] = `${first}${entry}${assign}${text}`;
  }
  return headers;
}

const lowerCase = (h: Record<string, string>) =>
  Object.fromEntries(Object.entries(h).map(([k, val]) => [k.toLowerCase(), val]));
