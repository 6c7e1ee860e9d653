import { z } from 'zod';

// The verifier configuration a Route carries: everything the ingress's one generic engine needs to
// check a delivery, resolved by the operator from a provider preset (providers.ts) or from the
// trigger's own `signature` knobs. A discriminated union on `type`, so that public-key and token
// verifiers (issue 19) join as new members without touching the symmetric one.

export const Algorithm = z.enum(['sha1', 'sha256', 'sha512']);
export type Algorithm = z.infer<typeof Algorithm>;
/** Bytes of each algorithm's digest: a signature of any other length is malformed. */
export const DIGEST_BYTES: Record<Algorithm, number> = { sha1: 20, sha256: 32, sha512: 64 };

export const Encoding = z.enum(['hex', 'base64', 'base64url']);
export type Encoding = z.infer<typeof Encoding>;

/**
 * How the secret's text becomes the HMAC key: its UTF-8 bytes (what `openssl dgst -hmac` does), or
 * the bytes its text encodes (base64: Microsoft Teams; hex; whsec: base64 after a `whsec_` prefix,
 * the Standard Webhooks and Svix form).
 */
export const KeyEncoding = z.enum(['utf8', 'base64', 'hex', 'whsec']);
export type KeyEncoding = z.infer<typeof KeyEncoding>;

/**
 * The text a secret of each key encoding must be (the ingress decodes it strictly; the operator
 * refuses a referenced secret that is not this, rather than serve a trigger nothing can sign for).
 */
export const KEY_SHAPES: Record<KeyEncoding, RegExp> = {
  utf8: /^[\s\S]+$/,
  hex: /^(?:[0-9a-fA-F]{2})+$/,
  base64: /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/,
  whsec: /^(?:whsec_)?(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/,
};

/** How hookgate generates a signing secret: whsec_ + base64 unless the key or the provider needs another form. */
export type SecretFormat = 'whsec' | 'base64' | 'hex' | 'url-safe';

export const TimestampFormat = z.enum(['seconds', 'milliseconds', 'rfc3339']);
export type TimestampFormat = z.infer<typeof TimestampFormat>;

/**
 * What is signed, as text with placeholders, concatenated in order:
 * `{body}` the raw body; `{timestamp}` the timestamp as sent; `{id}` the signed delivery id;
 * `{method}` the request method; `{url}` the trigger's published URL (status.url, never the
 * request's Host) with the request's query string; `{form}` the form fields sorted by name, each
 * name followed by its value (Twilio); `{header:Name}` a request header; `{field:a.b}` a scalar
 * field of the JSON body. Anything else is literal text. Braces are never literal.
 */
export const TEMPLATE_PATTERN =
  "^([^{}]|\\{(body|timestamp|id|method|url|form)\\}|\\{header:[A-Za-z0-9!#$%&'*+.^_`|~-]+\\}|\\{field:[^{}]+\\})*$";
export const SignedContent = z
  .string()
  .min(1)
  .max(256)
  .regex(
    new RegExp(TEMPLATE_PATTERN),
    'placeholders are {body}, {timestamp}, {id}, {method}, {url}, {form}, {header:Name}, {field:path}',
  );

export type TemplatePart =
  | { literal: string }
  | { body: true }
  | { timestamp: true }
  | { id: true }
  | { method: true }
  | { url: true }
  | { form: true }
  | { header: string }
  | { field: string };

/** The template's parts, in order (the template is checked against TEMPLATE_PATTERN first). */
export function templateParts(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  for (const [, literal, placeholder] of template.matchAll(/([^{}]+)|\{([^{}]+)\}/g)) {
    if (literal !== undefined) parts.push({ literal });
    else if (placeholder!.startsWith('header:')) parts.push({ header: placeholder!.slice(7) });
    else if (placeholder!.startsWith('field:')) parts.push({ field: placeholder!.slice(6) });
    else parts.push({ [placeholder!]: true } as TemplatePart);
  }
  return parts;
}

/** A header, or a dot path into the JSON body ("event-data.id", "0.eventId"). */
export const ValueSource = z.union([
  z.object({ header: z.string() }).strict(),
  z.object({ field: z.string() }).strict(),
]);
export type ValueSource = z.infer<typeof ValueSource>;

/**
 * Several signatures in one value: entries split on `separator`, each `key<assign>value`; the
 * values of `key` are the candidates (Stripe `t=..,v1=..,v1=..`; Paddle `ts=..;h1=..`; Standard
 * Webhooks `v1,<sig> v1,<sig>`; PagerDuty `v1=a,v1=b`).
 */
export const SignatureList = z
  .object({
    separator: z.enum([',', ';', ' ']).describe('Between entries.'),
    assign: z.enum(['=', ',']).describe("Between an entry's key and its value."),
    key: z.string().min(1).max(32).describe('The key of the entries that are signatures, e.g. v1.'),
  })
  .strict();
export type SignatureList = z.infer<typeof SignatureList>;

export const HmacVerifier = z
  .object({
    type: z.literal('hmac'),
    algorithm: Algorithm,
    keyEncoding: KeyEncoding,
    /** Where signatures are: one or more headers (Box: primary and secondary), or a body field (Mailgun). */
    signature: z.union([
      z.object({ headers: z.array(z.string()).min(1).max(4) }).strict(),
      z.object({ field: z.string() }).strict(),
    ]),
    /** Text before the signature (before each entry's value when `list` is set it is not used). */
    prefix: z.string().max(32).optional(),
    list: SignatureList.optional(),
    encoding: Encoding,
    /** The signed-content template (TEMPLATE_PATTERN). */
    content: z.string(),
    /**
     * A signed timestamp: refused outside `toleranceSeconds` in either direction. `entry`: a key of
     * the signature list (Stripe's `t`). Only set when the timestamp is signed (in `content`, or a
     * field of a signed body).
     */
    timestamp: z
      .object({
        source: z.union([ValueSource, z.object({ entry: z.string() }).strict()]),
        format: TimestampFormat,
        toleranceSeconds: z.number().int(),
      })
      .optional(),
    /** The delivery id as signed (`{id}` in content): it names the delivery, across re-signed retries. */
    id: z.object({ header: z.string() }).strict().optional(),
    /** Untimed verifiers: how long a replay is answered as a duplicate. */
    replayWindowSeconds: z.number().int().optional(),
  })
  .strict();
export type HmacVerifier = z.infer<typeof HmacVerifier>;

/** No signature: the secret itself in a header, compared in constant time (Telegram, Okta, GitLab). */
export const SecretVerifier = z
  .object({
    type: z.literal('secret'),
    header: z.string(),
    /** Text before the secret in the header's value (e.g. `Bearer `). */
    prefix: z.string().max(32).optional(),
  })
  .strict();
export type SecretVerifier = z.infer<typeof SecretVerifier>;

export const Verifier = z.discriminatedUnion('type', [HmacVerifier, SecretVerifier]);
export type Verifier = z.infer<typeof Verifier>;

/** A provider's ping: a verified delivery answered 200 and never run (GitHub `ping`). */
export const PingMatch = z
  .object({
    source: ValueSource,
    values: z.array(z.string()).min(1),
  })
  .strict();
export type PingMatch = z.infer<typeof PingMatch>;
