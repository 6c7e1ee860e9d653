import { fail, header, OK, secretsEqual, type VerifyRequest, type VerifyResult } from './common.ts';

// Credentials of senders that cannot sign: HTTP Basic, a token in the URL path, a secret in a body
// field. Each is compared through its SHA-256 in constant time (secretsEqual), whatever its length.

/** `Authorization: Basic base64(<username>:<password>)` against `<username>:<password>` values. */
export function verifyBasic(values: string[], req: Pick<VerifyRequest, 'headers'>): VerifyResult {
  const encoded = /^basic\s+([A-Za-z0-9+/]+={0,2})\s*$/i.exec(header(req, 'authorization') ?? '')?.[1];
  if (!encoded) return fail('missing_basic_auth');
  const given = Buffer.from(encoded, 'base64').toString('utf8');
  return values.some((value) => secretsEqual(given, value)) ? OK : fail('invalid_basic_auth');
}

export const basicValue = (username: string, password: string) => `${username}:${password}`;

/** The token of `<url>/<token>` (Fastify has decoded the segment). */
export function verifyUrlToken(values: string[], given: string | undefined): VerifyResult {
  if (!given) return fail('missing_url_token');
  return values.some((value) => secretsEqual(given, value)) ? OK : fail('invalid_url_token');
}

const segmentsOf = (field: string) => field.split('.');

/**
 * Every value at `field` in the parsed body, where `*` stands for each element of an array. Own
 * properties only; linear in the body (each node is visited at most once per path segment).
 */
export function fieldValues(payload: unknown, field: string): unknown[] {
  let nodes: unknown[] = [payload];
  for (const segment of segmentsOf(field)) {
    const next: unknown[] = [];
    for (const node of nodes) {
      if (segment === '*') {
        // A loop, not push(...node): a 1 MiB body holds arrays longer than a call's arguments may be.
        if (Array.isArray(node)) for (const item of node) next.push(item);
      } else if (typeof node === 'object' && node !== null && Object.hasOwn(node, segment)) {
        next.push((node as Record<string, unknown>)[segment]);
      }
    }
    nodes = next;
  }
  return nodes;
}

/**
 * At least one value at `field`, and every one of them a string equal to one of `values`. A body
 * may hold thousands of them: as at most `values.length` distinct values can all be right, more
 * distinct ones fail at once, and only the distinct ones are compared (hashing is what costs).
 */
export function verifyBodySecret(values: string[], payload: unknown, field: string): VerifyResult {
  const found = fieldValues(payload, field);
  if (found.length === 0) return fail('missing_body_secret');
  const distinct = new Set<string>();
  for (const v of found) {
    if (typeof v !== 'string') return fail('invalid_body_secret');
    distinct.add(v);
    if (distinct.size > values.length) return fail('invalid_body_secret');
  }
  const ok = [...distinct].every((v) => values.some((value) => secretsEqual(v, value)));
  return ok ? OK : fail('invalid_body_secret');
}

/** Deletes the values at `field` (the secret has no business in a run's input); mutates `payload`. */
export function stripField(payload: unknown, field: string): void {
  const segments = segmentsOf(field);
  const last = segments.pop()!;
  const holders = segments.length === 0 ? [payload] : fieldValues(payload, segments.join('.'));
  for (const node of holders) {
    if (typeof node === 'object' && node !== null && !Array.isArray(node) && Object.hasOwn(node, last)) {
      delete (node as Record<string, unknown>)[last];
    }
  }
}
