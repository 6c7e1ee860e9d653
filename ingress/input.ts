import type { IncomingHttpHeaders } from 'node:http';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import type { Route } from '../api/v1alpha1/index.ts';
import { SchemaCompiler } from '../lib/input-schema.ts';
import { BACKSLASH, CLOSE_ARRAY, CLOSE_OBJECT, OPEN_ARRAY, OPEN_OBJECT, QUOTE } from '../lib/json-bytes.ts';
import { fieldAt, scalarText } from './verify/common.ts';
import { deliveryIdSource, isTimed, replayWindowSeconds, signsBody, verifierOf } from './verify/index.ts';

export { fieldAt } from './verify/common.ts';

// What a webhook body becomes: parsing by content type, the input mapping, the filter, the
// delivery id and the workflow's inputSchema check. Pure except for the schema cache.

export type BodyKind = 'json' | 'form';

/**
 * JSON (`application/json`, `application/*+json`) and forms (`application/x-www-form-urlencoded`:
 * Slack slash commands and interactivity, HTML forms). `text/plain` is read as JSON because some
 * senders (AWS SNS, hand-written scripts) post JSON under it; a text/plain body that is not JSON is
 * answered 400 like any malformed JSON. Anything else is not accepted (415).
 */
export function bodyKind(contentType: string | undefined): BodyKind | undefined {
  const media = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (!media) return undefined;
  if (media === 'application/x-www-form-urlencoded') return 'form';
  if (media === 'text/plain' || /^application\/([\w.-]+\+)?json$/.test(media)) return 'json';
  return undefined;
}

export class MalformedBodyError extends Error {}

/**
 * Deeper JSON is refused (400). Webhook payloads nest a handful of levels (GitHub's about 8);
 * thousands of levels parse, but then overflow the stack of every recursive step after (the run's
 * JSON.stringify, schema validation).
 */
export const MAX_JSON_DEPTH = 64;
/** More form fields are refused (400); Slack's forms carry about 15. */
export const MAX_FORM_FIELDS = 1000;

/** An empty body is an empty object (a bare POST is a valid delivery), whatever the content type. */
export function parseBody(kind: BodyKind | undefined, raw: Buffer | undefined): unknown {
  if (!raw || raw.length === 0) return {};
  const text = raw.toString('utf8');
  return kind === 'form' ? parseForm(text) : parseJson(text, 'the body');
}

function parseJson(text: string, what: string): unknown {
  if (jsonDepth(text) > MAX_JSON_DEPTH) {
    throw new MalformedBodyError(`${what} nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new MalformedBodyError(`${what} is not valid JSON`);
  }
}

/**
 * The deepest nesting of objects and arrays, in one pass without recursion (brackets inside strings
 * do not count). Stops counting once past the cap. Invalid JSON is JSON.parse's to refuse.
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      depth++;
      if (depth > max) max = depth;
      if (max > MAX_JSON_DEPTH) return max;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--;
  }
  return max;
}

/**
 * Form fields become an object (a repeated field becomes an array of its values, appended in
 * place: linear in the body). Slack's interactivity posts one field, `payload`, holding JSON: that
 * JSON is the payload.
 */
function parseForm(text: string): unknown {
  // Counted before parsing, so a body of a million fields is refused without building them.
  let fields = 1;
  for (let i = text.indexOf('&'); i >= 0; i = text.indexOf('&', i + 1)) {
    if (++fields > MAX_FORM_FIELDS) {
      throw new MalformedBodyError(`the form has more than ${MAX_FORM_FIELDS} fields`);
    }
  }
  const form: Record<string, string | string[]> = Object.create(null);
  for (const [key, value] of new URLSearchParams(text)) {
    const seen = form[key];
    if (seen === undefined) form[key] = value;
    else if (Array.isArray(seen)) seen.push(value);
    else form[key] = [seen, value];
  }
  const keys = Object.keys(form);
  if (keys.length === 1 && keys[0] === 'payload' && typeof form.payload === 'string') {
    return parseJson(form.payload, 'the form field "payload"');
  }
  return { ...form };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const headerText = (headers: IncomingHttpHeaders, name: string) => {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
};

/** True when the delivery passes `route.filter` (every header and field equals one of its values). */
export function matchesFilter(
  filter: Route['filter'],
  payload: unknown,
  headers: IncomingHttpHeaders,
): boolean {
  for (const [name, values] of Object.entries(filter?.headers ?? {})) {
    const value = headerText(headers, name);
    if (value === undefined || !values.includes(value)) return false;
  }
  for (const { path, values } of filter?.fields ?? []) {
    const value = scalarText(fieldAt(payload, path));
    if (value === undefined || !values.includes(value)) return false;
  }
  return true;
}

/**
 * Headers that carry credentials are never copied into the input, even when listed: the input
 * lands in a Secret the workflow's pods read, and credentials have no business there.
 */
function credentialHeaders(route: Route): Set<string> {
  const names = new Set(['authorization', 'proxy-authorization', 'cookie']);
  const signature = route.auth.signature;
  const verifier = signature && verifierOf(signature);
  if (verifier?.type === 'secret') names.add(verifier.header.toLowerCase());
  return names;
}

/**
 * `{ ...defaults, ...payload, _query, _headers }`. A payload that is not an object (an array, a
 * string, a number) cannot be spread, so it goes under the key `payload`. `_query` is present
 * (possibly empty) whenever `input.query` is on; `_headers` whenever headers are listed, with
 * lower-case names and only the headers that were sent.
 */
export function mapInput(
  route: Route,
  payload: unknown,
  query: Record<string, unknown>,
  headers: IncomingHttpHeaders,
): Record<string, unknown> {
  const input: Record<string, unknown> = {
    ...route.input.defaults,
    ...(isObject(payload) ? payload : { payload }),
  };
  if (route.input.query) input._query = { ...query };
  if (route.input.headers?.length) {
    const skip = credentialHeaders(route);
    const chosen: Record<string, string> = {};
    for (const name of route.input.headers) {
      const key = name.toLowerCase();
      const value = headerText(headers, key);
      if (value !== undefined && !skip.has(key)) chosen[key] = value;
    }
    input._headers = chosen;
  }
  return input;
}

/** Longer ids are refused (400): they end up in an annotation and would only be noise. */
export const MAX_DELIVERY_ID = 1024;

/**
 * The delivery id: from `source` (the trigger's `idempotency` or its scheme's default), else an
 * `Idempotency-Key` header, else undefined (the caller makes a random one: every delivery is new).
 */
export function deliveryIdOf(
  source: { header?: string; field?: string } | undefined,
  payload: unknown,
  headers: IncomingHttpHeaders,
): string | undefined {
  const fromSource = source?.header
    ? headerText(headers, source.header)
    : source?.field
      ? scalarText(fieldAt(payload, source.field))
      : undefined;
  const id = (fromSource ?? headerText(headers, 'idempotency-key'))?.trim();
  return id || undefined;
}

export interface DeliveryKey {
  /** What makes two deliveries one run (the Job name derives from it). */
  key: string;
  /** The end of the window in which a replay of this delivery verifies (ms since the epoch). */
  replayUntil?: number;
  /** That window's length in seconds (from receipt to `replayUntil`). */
  replayWindowSeconds?: number;
  /** A re-signed retry keeps the sender's id but not the key: match the id too (see Delivery). */
  matchSenderId: boolean;
}

/**
 * The dedupe key of a verified delivery, from signed material only, so that a replay with new
 * unsigned headers is the same run: the trigger's `idempotency.field` or the provider's or
 * scheme's body field (Stripe `id`, Slack `event_id`) when present in a signed body; else what the scheme signed (the
 * standard-webhooks `webhook-id`, or the hash of the signed message: verify's `signed`). When
 * nothing is signed (bearer tokens, shared secrets) it is the sender's id, and a captured request
 * can be replayed under a new id.
 */
export function deliveryKey(
  route: Route,
  payload: unknown,
  signed: string | undefined,
  senderId: string,
  now: number,
): DeliveryKey {
  const signature = route.auth.signature;
  const window = replayWindowSeconds(signature, route.auth.identity);
  if (window === undefined || signed === undefined) return { key: senderId, matchSenderId: false };
  const fallback = deliveryIdSource(route);
  const field = route.idempotency?.field ?? ('field' in fallback ? fallback.field : undefined);
  // Only a field of a signed body is signed material (Mailgun signs a token, not its body).
  const value =
    field === undefined || !signsBody(signature) ? undefined : scalarText(fieldAt(payload, field));
  return {
    key: value !== undefined ? `field:${value}` : `signed:${signed}`,
    replayUntil: now + window * 1000,
    replayWindowSeconds: window,
    // Only a timestamped signature refuses a replay after its window, so only there can a replay
    // not plant a sender id on a new run that would then swallow the real delivery of that id.
    matchSenderId: value === undefined && isTimed(signature),
  };
}

/**
 * Compiled `inputSchema`s, at most `max`, least recently used evicted. Keyed by workflow uid and
 * the schema text: the route carries no workflow generation, and a changed schema must not reuse
 * the old validator. Compiled with the operator's compiler (lib/input-schema.ts), so a Ready
 * Workflow's schema compiles here too; one that does not (a route from an older operator) throws
 * InputSchemaError, answered 503.
 */
export class InputSchemas {
  readonly #compiler = new SchemaCompiler();
  readonly #cache = new Map<string, { schema: object; validate: ValidateFunction }>();

  constructor(readonly max = 256) {}

  /** Undefined when the input is valid (or there is no schema), else a short reason. */
  check(workflow: Route['workflow'], input: unknown): string | undefined {
    const schema = workflow.spec.inputSchema;
    if (!schema) return undefined;
    const validate = this.#validator(workflow.uid, schema);
    if (validate(input)) return undefined;
    const [first] = validate.errors ?? [];
    return first ? `${first.instancePath || '/'} ${first.message ?? 'is invalid'}` : 'is invalid';
  }

  #validator(uid: string, schema: Record<string, unknown>): ValidateFunction {
    const key = `${uid}\n${JSON.stringify(schema)}`;
    const hit = this.#cache.get(key);
    if (hit) {
      this.#cache.delete(key);
      this.#cache.set(key, hit);
      return hit.validate;
    }
    const validate = this.#compiler.compile(schema);
    this.#cache.set(key, { schema, validate });
    for (const [oldest, entry] of this.#cache) {
      if (this.#cache.size <= this.max) break;
      this.#cache.delete(oldest);
      this.#compiler.forget(entry.schema);
    }
    return validate;
  }

  get size() {
    return this.#cache.size;
  }
}
