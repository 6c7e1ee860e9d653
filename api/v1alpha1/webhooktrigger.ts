import { z } from 'zod';
import {
  HeaderMap,
  HeaderName,
  JsonObject,
  mapList,
  Name,
  objectSchema,
  type Rule,
  SecretKeyRef,
  statusSchema,
  withRules,
} from './common.ts';
import { HANDSHAKE_FACTS } from './handshakes.ts';
import { OidcAuth, PaypalAuth, PublicKeys, SnsAuth } from './identity.ts';
import { REJECTION_OUTCOMES, type RejectionOutcome } from './outcomes.ts';
import { HANDSHAKES, isServed, PROVIDER_NAMES, PROVIDERS, type Provider } from './providers.ts';
import {
  Algorithm,
  Encoding,
  KeyEncoding,
  SignatureList,
  SignedContent,
  TimestampFormat,
} from './verifier.ts';

export const SignatureScheme = z.enum([
  'hmac-sha256', // HMAC-SHA256 of the raw body in a header: prefix and encoding configurable
  'timestamped', // `t=<ts>,v1=<hex>` over "<t>.<body>", seconds or milliseconds
  'standard-webhooks', // webhook-id / webhook-timestamp / webhook-signature
  'github', // X-Hub-Signature-256: sha256=<hex>
  'stripe', // Stripe-Signature: t=<s>,v1=<hex>
  'slack', // X-Slack-Signature: v0=<hex> over "v0:<ts>:<body>"
  'shared-secret', // the secret itself in a header (no signature)
  'hmac', // any HMAC: algorithm, encodings, signature list, signed content and timestamp configurable
]);
export type SignatureScheme = z.infer<typeof SignatureScheme>;

const CUSTOM_HEADER: readonly SignatureScheme[] = ['hmac-sha256', 'timestamped', 'shared-secret', 'hmac'];
const TIMED: readonly SignatureScheme[] = ['timestamped', 'standard-webhooks', 'stripe', 'slack'];
const UNTIMED_HMAC: readonly SignatureScheme[] = ['github', 'hmac-sha256'];
const HMAC_KNOBS = ['algorithm', 'keyEncoding', 'signatureList', 'signedContent', 'timestamp'] as const;

const TimestampKnob = withRules(
  z
    .object({
      header: HeaderName.optional().describe('The header carrying it.'),
      field: z.string().min(1).max(256).optional().describe('A dot path into the JSON body (a signed body).'),
      listKey: z
        .string()
        .min(1)
        .max(32)
        .optional()
        .describe('A key of the signature list, e.g. "t" in `t=<ts>,v1=<sig>`.'),
      format: TimestampFormat.default('seconds').describe('seconds (default), milliseconds or rfc3339.'),
    })
    .strict(),
  {
    rule: '[has(self.header), has(self.field), has(self.listKey)].filter(x, x).size() == 1',
    message: 'timestamp: set exactly one of header, field or listKey',
    check: (t) => [t.header, t.field, t.listKey].filter((x) => x !== undefined).length === 1,
  },
);

const content = (s: { signedContent?: string }) => s.signedContent ?? '{body}';

export const Signature = withRules(
  z
    .object({
      scheme: SignatureScheme.optional().describe(
        'How deliveries are signed; required unless auth.provider names the sender. hmac-sha256, timestamped, standard-webhooks, github, stripe, slack, shared-secret (the secret itself in a header), or hmac (every knob below).',
      ),
      header: HeaderName.optional().describe(
        'Header carrying the signature (hmac-sha256, timestamped, hmac: X-Webhook-Signature; shared-secret: X-Webhook-Secret).',
      ),
      prefix: z
        .string()
        .max(32)
        .optional()
        .describe('hmac-sha256 and hmac: text before the signature, e.g. "sha256=".'),
      encoding: Encoding.optional().describe('hmac-sha256 and hmac: hex (default), base64 or base64url.'),
      algorithm: Algorithm.optional().describe('hmac only: sha1, sha256 (default) or sha512.'),
      keyEncoding: KeyEncoding.optional().describe(
        "hmac only: how the secret's text becomes the HMAC key: utf8 (default, what `openssl dgst -hmac` does), base64, hex, or whsec (base64 after a whsec_ prefix).",
      ),
      signatureList: SignatureList.optional().describe(
        'hmac only: several signatures in the header, e.g. {separator: ",", assign: "=", key: "v1"} for `v1=<sig>,v1=<sig>`; any one that verifies will do.',
      ),
      signedContent: SignedContent.optional().describe(
        'hmac only: what is signed (default "{body}"). Placeholders: {body} (raw bytes), {timestamp} (as sent), {method}, {url} (status.url and the query string), {form} (form fields sorted by name, name then value), {header:Name}, {field:path} (a JSON body field); anything else is literal.',
      ),
      timestamp: TimestampKnob.optional().describe(
        'hmac only: a signed timestamp, refused outside toleranceSeconds (then replays are refused too).',
      ),
      timestampUnit: z
        .enum(['seconds', 'milliseconds'])
        .optional()
        .describe('timestamped only (default seconds).'),
      toleranceSeconds: z
        .number()
        .int()
        .min(1)
        .max(86400)
        .optional()
        .describe(
          "Accepted clock skew for timestamped schemes and providers (default 300, or the provider's).",
        ),
      replayWindowSeconds: z
        .number()
        .int()
        .min(1)
        .max(604800)
        .optional()
        .describe(
          'github and hmac-sha256, hmac without a timestamp, providers that sign no timestamp: how long a replayed delivery is answered as a duplicate (default 3600).',
        ),
      secretRef: SecretKeyRef.optional().describe(
        'Use this Secret key as the signing secret instead of a generated one (required for providers that issue their own).',
      ),
    })
    .strict(),
  {
    rule: "!has(self.scheme) || self.scheme in ['hmac-sha256', 'hmac'] || (!has(self.prefix) && !has(self.encoding))",
    message: 'prefix and encoding apply only to the hmac-sha256 scheme and the generic hmac scheme',
    check: (s) =>
      !s.scheme ||
      s.scheme === 'hmac-sha256' ||
      s.scheme === 'hmac' ||
      (s.prefix === undefined && s.encoding === undefined),
  },
  {
    rule: "!has(self.scheme) || self.scheme == 'timestamped' || !has(self.timestampUnit)",
    message: 'timestampUnit applies only to the timestamped scheme',
    check: (s) => !s.scheme || s.scheme === 'timestamped' || s.timestampUnit === undefined,
  },
  {
    rule: "!has(self.scheme) || self.scheme in ['hmac-sha256', 'timestamped', 'shared-secret', 'hmac'] || !has(self.header)",
    message: 'header is fixed by the github, stripe, slack and standard-webhooks schemes',
    check: (s) => !s.scheme || CUSTOM_HEADER.includes(s.scheme) || s.header === undefined,
  },
  {
    rule: "!has(self.scheme) || self.scheme in ['timestamped', 'standard-webhooks', 'stripe', 'slack'] || (self.scheme == 'hmac' && has(self.timestamp)) || !has(self.toleranceSeconds)",
    message: 'toleranceSeconds applies only to timestamped schemes',
    check: (s) =>
      !s.scheme ||
      TIMED.includes(s.scheme) ||
      (s.scheme === 'hmac' && s.timestamp !== undefined) ||
      s.toleranceSeconds === undefined,
  },
  {
    rule: "!has(self.scheme) || self.scheme in ['github', 'hmac-sha256'] || (self.scheme == 'hmac' && !has(self.timestamp)) || !has(self.replayWindowSeconds)",
    message:
      'replayWindowSeconds applies only to the github and hmac-sha256 schemes, and hmac without a timestamp (others use toleranceSeconds)',
    check: (s) =>
      !s.scheme ||
      UNTIMED_HMAC.includes(s.scheme) ||
      (s.scheme === 'hmac' && s.timestamp === undefined) ||
      s.replayWindowSeconds === undefined,
  },
  {
    rule: `!has(self.scheme) || self.scheme == 'hmac' || (${HMAC_KNOBS.map((k) => `!has(self.${k})`).join(' && ')})`,
    message:
      'algorithm, keyEncoding, signatureList, signedContent and timestamp apply only to the hmac scheme',
    check: (s) => !s.scheme || s.scheme === 'hmac' || HMAC_KNOBS.every((k) => s[k] === undefined),
  },
  {
    rule: '!has(self.signatureList) || !has(self.prefix)',
    message: 'set prefix or signatureList, not both: list entries carry their own key',
    check: (s) => s.signatureList === undefined || s.prefix === undefined,
  },
  {
    rule: "!has(self.timestamp) || (has(self.signedContent) ? self.signedContent : '{body}').contains(has(self.timestamp.field) ? '{body}' : '{timestamp}')",
    message:
      'the timestamp must be signed: put {timestamp} in signedContent (a timestamp field must be in a signed {body})',
    check: (s) =>
      !s.timestamp || content(s).includes(s.timestamp.field !== undefined ? '{body}' : '{timestamp}'),
  },
  {
    rule: "!has(self.signedContent) || !self.signedContent.contains('{timestamp}') || has(self.timestamp)",
    message: 'signedContent has {timestamp}: set timestamp (header, field or listKey)',
    check: (s) => !content(s).includes('{timestamp}') || s.timestamp !== undefined,
  },
  {
    rule: "!has(self.signedContent) || !self.signedContent.contains('{id}')",
    message: 'signedContent: name the delivery id header as {header:Name}',
    check: (s) => !content(s).includes('{id}'),
  },
  {
    rule: '!has(self.timestamp) || !has(self.timestamp.listKey) || has(self.signatureList)',
    message: 'timestamp.listKey needs signatureList',
    check: (s) => s.timestamp?.listKey === undefined || s.signatureList !== undefined,
  },
);

/** A dot path into the JSON body where `*` is every element of an array, e.g. `value.*.clientState`. */
export const BodyFieldPath = z
  .string()
  .min(1)
  .max(256)
  .regex(/^(([^.*]+|\*)\.)*[^.*]+$/, 'must be a dot path whose last segment is a field name');

const celList = (names: readonly string[]) => `[${names.map((n) => `'${n}'`).join(', ')}]`;
const rows = PROVIDERS as readonly Provider[];
const named = (test: (p: Provider) => boolean) => rows.filter(test).map((p) => p.name);
/** Providers whose secret the trigger must reference. */
const ISSUED = named((p) => p.secret === 'provider');
/** Providers that sign a timestamp (toleranceSeconds), and those that sign without one (replayWindowSeconds). */
const TIMED_PROVIDERS = named((p) => p.auth.type === 'hmac' && p.auth.timestamp !== undefined);
const UNTIMED_PROVIDERS = named((p) => p.auth.type === 'hmac' && p.auth.timestamp === undefined);
/** Providers with no signing secret at all (a bearer token, or credentials of their own). */
const NO_SECRET = named((p) => p.auth.type !== 'hmac' && p.auth.type !== 'secret');
/** Credentials this version cannot check yet: such a provider is refused rather than served open. */
const UNSUPPORTED = named((p) => !isServed(p));
const UNSUPPORTED_RULE: Rule<{ provider?: string }> = {
  rule: `!has(self.provider) || !(self.provider in ${celList(UNSUPPORTED)})`,
  messageExpression: `'provider ' + self.provider + ' needs a credential this version of hookgate cannot check yet'`,
  message: 'this provider needs a credential this version of hookgate cannot check yet',
  check: (a) => !a.provider || !UNSUPPORTED.includes(a.provider),
};
const ALLOWED_WITH_PROVIDER = ['secretRef', 'toleranceSeconds', 'replayWindowSeconds'];
/** Providers whose public keys the trigger pins, whose certificates sign (SNS, PayPal), or who send OIDC tokens. */
const PUBLIC_KEY = named((p) => p.auth.type === 'public-key');
const OIDC = named((p) => p.auth.type === 'oidc');
const OIDC_ISSUER_FIXED = named((p) => p.auth.type === 'oidc' && p.auth.issuer !== undefined);
const REQUIRED_CLAIMS = rows.flatMap((p) =>
  p.auth.type === 'oidc' ? (p.auth.requiredClaims ?? []).map((claim) => ({ provider: p.name, claim })) : [],
);
/** A provider-specific block is set exactly when its provider is named. */
const blockRule = (field: string, providers: string[], what: string) => ({
  rule: `has(self.${field}) == (has(self.provider) && self.provider in ${celList(providers)})`,
  message: `auth.${field} is required with, and only with, provider ${providers.join(' or ')} (${what})`,
  check: (a: Record<string, unknown> & { provider?: string }) =>
    (a[field] !== undefined) === (a.provider !== undefined && providers.includes(a.provider)),
});
const SIGNATURE_FIELDS = Object.keys(Signature.shape);

export const Auth = withRules(
  z
    .object({
      provider: z
        .enum(PROVIDER_NAMES)
        .optional()
        .describe(
          `A sender hookgate knows by name: its headers, algorithm, signed content, timestamp, delivery id, pings and handshakes come from the preset (README "Providers"). Secrets the provider issues go in auth.signature.secretRef. One of: ${PROVIDER_NAMES.join(', ')}.`,
        ),
      bearer: z
        .object({
          secretRef: SecretKeyRef.optional().describe(
            'Use this Secret key as the token instead of a generated one.',
          ),
        })
        .strict()
        .optional()
        .describe('Require `Authorization: Bearer <token>`.'),
      basic: z
        .object({
          secretRef: z
            .object({ name: Name.describe('Name of a Secret in the same namespace.') })
            .strict()
            .optional()
            .describe(
              'Use the keys `username` and `password` of this Secret (as in a kubernetes.io/basic-auth Secret) instead of generated ones.',
            ),
        })
        .strict()
        .optional()
        .describe(
          'Require HTTP Basic authentication (`Authorization: Basic`), for senders that can only send a user and password (Alertmanager, Grafana, Argo CD, Bitbucket Data Center, Postmark). Generated into the credentials Secret (keys `username`, `password`) and rotated like tokens; 401 answers carry `WWW-Authenticate: Basic realm="hookgate"`.',
        ),
      urlToken: z
        .object({
          secretRef: SecretKeyRef.optional().describe(
            'Use this Secret key as the URL token instead of a generated one.',
          ),
        })
        .strict()
        .optional()
        .describe(
          "Require a token as one more path segment, `<status.url>/<token>`, for senders that can carry nothing else (Docker Hub, Quay). Generated into the credentials Secret (key `urlToken`, named by status.urlTokenRef) and rotated like tokens; `hookgate url --with-token` prints the full URL. Anyone who sees the URL (proxy logs, the sender's settings page) has the credential: prefer a header or a signature where the sender has one.",
        ),
      bodySecret: z
        .object({
          field: BodyFieldPath.describe(
            'Where the secret is in the JSON body; `*` is every element of an array, and every element must carry it (Microsoft Graph: `value.*.clientState`).',
          ),
          secretRef: SecretKeyRef.optional().describe(
            'Use this Secret key as the secret instead of a generated one.',
          ),
        })
        .strict()
        .optional()
        .describe(
          'Require a shared secret in a body field (Microsoft Graph change notifications: `clientState`), compared in constant time. Generated into the credentials Secret (key `bodySecret`) and rotated like tokens; removed from the run input.',
        ),
      signature: Signature.optional().describe(
        'Require a signature made with a shared secret: a scheme (github, stripe, slack, standard-webhooks, hmac-sha256, timestamped, shared-secret, or the generic hmac), or the settings of auth.provider.',
      ),
      publicKeys: PublicKeys.optional(),
      sns: SnsAuth.optional().describe(
        'provider aws-sns: the topics accepted, and subscription confirmation.',
      ),
      paypal: PaypalAuth.optional().describe('provider paypal: the webhook id PayPal signs.'),
      oidc: OidcAuth.optional().describe(
        'Require `Authorization: Bearer <OIDC token>` from an identity provider (any issuer, or the preset of provider google-pubsub, github-actions-oidc or entra): signature, issuer, audience, lifetime and claims are checked.',
      ),
    })
    .strict(),
  // Only while some row needs a credential this version cannot check (none now).
  ...(UNSUPPORTED.length === 0 ? [] : [UNSUPPORTED_RULE]),
  {
    rule: 'has(self.bearer) || has(self.basic) || has(self.urlToken) || has(self.bodySecret) || has(self.signature) || has(self.provider) || has(self.oidc)',
    message:
      'auth needs at least one of bearer, basic, urlToken, bodySecret, signature or oidc, or a provider',
    check: (a) =>
      a.bearer !== undefined ||
      a.basic !== undefined ||
      a.urlToken !== undefined ||
      a.bodySecret !== undefined ||
      a.signature !== undefined ||
      a.provider !== undefined ||
      a.oidc !== undefined,
  },
  {
    rule: '!(has(self.bearer) && has(self.basic))',
    message: 'bearer and basic both use the Authorization header: set one of them',
    check: (a) => a.bearer === undefined || a.basic === undefined,
  },
  blockRule('publicKeys', PUBLIC_KEY, 'the keys its deliveries are signed with'),
  blockRule('sns', ['aws-sns'], 'the topics it may deliver'),
  blockRule('paypal', ['paypal'], 'the webhook id it signs'),
  {
    rule: `!has(self.provider) || !(self.provider in ${celList(OIDC)}) || has(self.oidc)`,
    message:
      'this provider sends OIDC tokens: set auth.oidc (audiences, and the claims that name your sender)',
    check: (a) => !a.provider || !OIDC.includes(a.provider) || a.oidc !== undefined,
  },
  {
    rule: `!has(self.oidc) || !has(self.provider) || self.provider in ${celList(OIDC)}`,
    message: 'auth.oidc goes alone or with provider google-pubsub, github-actions-oidc or entra',
    check: (a) => !a.oidc || !a.provider || OIDC.includes(a.provider),
  },
  {
    rule: '!has(self.oidc) || !has(self.bearer)',
    message: 'auth.oidc and auth.bearer both use the Authorization header: set one',
    check: (a) => !a.oidc || !a.bearer,
  },
  {
    rule: `!has(self.oidc) || has(self.oidc.issuer) != (has(self.provider) && self.provider in ${celList(OIDC_ISSUER_FIXED)})`,
    message:
      'auth.oidc.issuer is required, except with a provider that fixes it (google-pubsub, github-actions-oidc), which it may not change',
    check: (a) =>
      !a.oidc ||
      (a.oidc.issuer !== undefined) !== (a.provider !== undefined && OIDC_ISSUER_FIXED.includes(a.provider)),
  },
  ...REQUIRED_CLAIMS.map(({ provider, claim }) => ({
    rule: `!has(self.oidc) || !has(self.provider) || self.provider != '${provider}' || (has(self.oidc.claims) && self.oidc.claims.exists(c, c.claim == '${claim}'))`,
    message: `provider ${provider}: auth.oidc.claims must name ${claim} (any token of the issuer would do otherwise)`,
    check: (a: { provider?: string; oidc?: OidcAuth }) =>
      !a.oidc || a.provider !== provider || !!a.oidc.claims?.some((c) => c.claim === claim),
  })),
  {
    rule: 'has(self.provider) || !has(self.signature) || has(self.signature.scheme)',
    message: 'auth.signature needs a scheme, or auth.provider',
    check: (a) => a.provider !== undefined || a.signature === undefined || a.signature.scheme !== undefined,
  },
  {
    rule: `!has(self.provider) || !has(self.signature) || (${SIGNATURE_FIELDS.filter(
      (k) => !ALLOWED_WITH_PROVIDER.includes(k),
    )
      .map((k) => `!has(self.signature.${k})`)
      .join(' && ')})`,
    message:
      'auth.provider fixes how deliveries are signed: under auth.signature set only secretRef, toleranceSeconds or replayWindowSeconds',
    check: (a) =>
      !a.provider ||
      !a.signature ||
      Object.entries(a.signature).every(([k, v]) => v === undefined || ALLOWED_WITH_PROVIDER.includes(k)),
  },
  {
    rule: `!has(self.provider) || !(self.provider in ${celList(ISSUED)}) || (has(self.signature) && has(self.signature.secretRef))`,
    messageExpression: `'provider ' + self.provider + ' issues its own signing secret: set auth.signature.secretRef to the Secret key holding it'`,
    message:
      'this provider issues its own signing secret: set auth.signature.secretRef to the Secret key holding it',
    check: (a) => !a.provider || !ISSUED.includes(a.provider) || !!a.signature?.secretRef,
  },
  {
    rule: `!has(self.provider) || !has(self.signature) || !has(self.signature.toleranceSeconds) || self.provider in ${celList(TIMED_PROVIDERS)}`,
    messageExpression: `'provider ' + self.provider + ' signs no timestamp: toleranceSeconds does not apply (replayWindowSeconds does)'`,
    message: 'this provider signs no timestamp: toleranceSeconds does not apply',
    check: (a) =>
      !a.provider || a.signature?.toleranceSeconds === undefined || TIMED_PROVIDERS.includes(a.provider),
  },
  {
    rule: `!has(self.provider) || !has(self.signature) || !has(self.signature.replayWindowSeconds) || self.provider in ${celList(UNTIMED_PROVIDERS)}`,
    messageExpression: `'provider ' + self.provider + (self.provider in ${celList(TIMED_PROVIDERS)} ? ' signs a timestamp: set toleranceSeconds, not replayWindowSeconds' : ' signs nothing: replayWindowSeconds does not apply')`,
    message: 'replayWindowSeconds applies only to providers that sign without a timestamp',
    check: (a) =>
      !a.provider || a.signature?.replayWindowSeconds === undefined || UNTIMED_PROVIDERS.includes(a.provider),
  },
  {
    rule: `!has(self.provider) || !has(self.signature) || !(self.provider in ${celList(NO_SECRET)})`,
    messageExpression: `'provider ' + self.provider + ' has no signing secret: remove auth.signature'`,
    message: 'this provider has no signing secret: remove auth.signature',
    check: (a) => !a.provider || !a.signature || !NO_SECRET.includes(a.provider),
  },
);

/**
 * Headers `response.headers` may not set. Framing headers would corrupt the answer; the others act on
 * the whole origin every trigger shares (cookies, HSTS, Clear-Site-Data, CORS) or on how the answer
 * is read (Content-Type, CSP).
 */
export const RESERVED_RESPONSE_HEADERS = [
  'connection',
  'content-length',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'content-type',
  'set-cookie',
  'set-cookie2',
  'strict-transport-security',
  'content-security-policy',
  'content-security-policy-report-only',
  'clear-site-data',
] as const;
const RESERVED_PREFIXES = ['access-control-', 'cross-origin-'] as const;

export const isReservedResponseHeader = (name: string) => {
  const lower = name.toLowerCase();
  return (
    (RESERVED_RESPONSE_HEADERS as readonly string[]).includes(lower) ||
    RESERVED_PREFIXES.some((p) => lower.startsWith(p))
  );
};

/** Header values Node sends as they are: no CR, LF or other control character but tab. */
const ResponseHeaderValue = z
  .string()
  .max(4096)
  .regex(/^[\t\x20-\x7e\x80-\xff]*$/, 'must not contain CR, LF or other control characters');

const ResponseHeaders = withRules(HeaderMap(ResponseHeaderValue), {
  rule: `self.all(k, !(k.lowerAscii() in ${celList(RESERVED_RESPONSE_HEADERS)}) && ${RESERVED_PREFIXES.map((p) => `!k.lowerAscii().startsWith('${p}')`).join(' && ')})`,
  message:
    'may not set Content-Type, Set-Cookie, Strict-Transport-Security, Content-Security-Policy, Clear-Site-Data, Access-Control-*, Cross-Origin-* or headers that frame HTTP',
  check: (m) => !Object.keys(m).some(isReservedResponseHeader),
}).describe('Headers added to the 2xx answers of new runs and duplicates.');

const responseFields = <H extends z.ZodType>(headers: H) =>
  z
    .object({
      mode: z
        .enum(['async', 'wait'])
        .default('async')
        .describe(
          'async (default): 202 with the run as soon as its Job exists; wait: 200 once the run finished (or 504 at timeoutSeconds), with its result.',
        ),
      timeoutSeconds: z
        .number()
        .int()
        .min(1)
        .max(300)
        .default(30)
        .describe('wait mode: how long the answer waits for the run to finish (then 504 with the run id).'),
      deadlineSeconds: z
        .number()
        .int()
        .min(3)
        .max(60)
        .default(8)
        .describe(
          "The longest a sender waits for its delivery to be accepted, counted from the request's arrival (in wait mode, until the run has started; the wait follows). Past it the answer is 503 `deadline_exceeded` with Retry-After, and a retry of the delivery is answered as the same run if it started meanwhile. Default 8 (GitHub gives up after 10 s); 3 for Slack.",
        ),
      statusCode: z
        .number()
        .int()
        .min(200)
        .max(299)
        .optional()
        .describe(
          'The status of the answer that starts a run (default 202, in wait mode 200); a duplicate gets 200.',
        ),
      headers: headers.optional(),
      includeOutput: z
        .boolean()
        .default(false)
        .describe(
          "wait mode: put the run's termination message (with FallbackToLogsOnError, the tail of its log) in the answer as `output`. It goes to whoever sends a delivery that verifies; never to a duplicate.",
        ),
      body: JsonObject.refine((b) => JSON.stringify(b).length <= 4096, 'at most 4 KiB of JSON')
        .optional()
        .describe(
          'async mode: answer every accepted delivery with this JSON instead of {accepted, run, ...} (the run is in the Hookgate-Run header), e.g. Discord\'s deferred interaction response {"type": 5}.',
        ),
    })
    .strict();

/**
 * `response` as the ingress reads it from a route: a route written by an older operator may hold
 * headers the CRD now refuses; the ingress drops those (ingress/http/response-headers.ts) rather
 * than the route.
 */
export const RouteResponse = responseFields(z.record(z.string(), z.string()));

const Origin = z
  .string()
  .min(1)
  .max(253)
  .regex(/^(\*|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$/, 'must be a DNS name or "*"');

export const Handshake = withRules(
  z
    .object({
      name: z.enum(HANDSHAKES).describe(
        `The handshake: ${Object.entries(HANDSHAKE_FACTS)
          .map(([name, h]) => `\`${name}\` (${h.method}) ${h.summary}`)
          .join('; ')}.`,
      ),
      verifyToken: z
        .object({
          secretRef: SecretKeyRef.optional().describe(
            'Use this Secret key as the verify token instead of a generated one.',
          ),
        })
        .strict()
        .optional()
        .describe(
          "meta-verify-token only: the verify token to paste into the app's webhook settings. Generated into the credentials Secret (key `verifyToken`) unless secretRef is set; rotated like tokens.",
        ),
      allowedOrigins: z
        .array(Origin)
        .min(1)
        .max(16)
        .optional()
        .describe(
          'cloudevents-options only (required there): the `WebHook-Request-Origin` values allowed to deliver, e.g. eventgrid.azure.net; "*" allows any.',
        ),
      allowedRate: z
        .number()
        .int()
        .min(1)
        .max(1_000_000)
        .optional()
        .describe(
          "cloudevents-options only: the WebHook-Allowed-Rate granted, in requests per minute (default: the trigger's rateLimit per minute).",
        ),
    })
    .strict(),
  {
    rule: "self.name == 'meta-verify-token' || !has(self.verifyToken)",
    message: 'verifyToken applies only to the meta-verify-token handshake',
    check: (h) => h.name === 'meta-verify-token' || h.verifyToken === undefined,
  },
  {
    rule: "self.name != 'cloudevents-options' || has(self.allowedOrigins)",
    message: 'the cloudevents-options handshake needs allowedOrigins',
    check: (h) => h.name !== 'cloudevents-options' || h.allowedOrigins !== undefined,
  },
  {
    rule: "self.name == 'cloudevents-options' || (!has(self.allowedOrigins) && !has(self.allowedRate))",
    message: 'allowedOrigins and allowedRate apply only to the cloudevents-options handshake',
    check: (h) =>
      h.name === 'cloudevents-options' || (h.allowedOrigins === undefined && h.allowedRate === undefined),
  },
);
export type Handshake = z.infer<typeof Handshake>;

type HandshakeSpec = { handshakes?: { name: string }[]; auth: z.output<typeof Auth> };
/** Handshakes a provider signs like its deliveries, and that need its signing secret. */
const SIGNED_HANDSHAKES = ['slack-url-verification', 'zoom-url-validation', 'twitch-callback-verification'];
const declares = (s: HandshakeSpec, names: string[]) => !!s.handshakes?.some((h) => names.includes(h.name));

export const WebhookTriggerSpec = withRules(
  z
    .object({
      workflowRef: z
        .object({ name: Name.describe('Name of a Workflow in the same namespace.') })
        .strict()
        .describe('The Workflow in the same namespace that runs.'),
      suspend: z.boolean().default(false).describe('A suspended trigger answers 403 and starts nothing.'),
      auth: Auth.describe(
        'How callers authenticate: at least one of bearer, basic, urlToken, bodySecret, signature or oidc, or a provider preset. Generated credentials go to status.credentialsSecret.',
      ),
      rateLimit: z
        .object({
          requests: z
            .number()
            .int()
            .min(1)
            .max(1_000_000)
            .default(30)
            .describe(
              'Deliveries allowed per address per period (default 30); past it 429 rate_limited with Retry-After.',
            ),
          periodSeconds: z.number().int().min(1).max(86400).default(60).describe('The period (default 60).'),
        })
        .strict()
        .prefault({})
        .describe(
          'Verified deliveries allowed per client address (IPv6: per /64) and period, across all ingress replicas: each replica enforces its share (at least 1), so behind an even load balancer the limit holds cluster-wide; with fewer requests than replicas, up to one per replica.',
        ),
      maxBodyBytes: z
        .number()
        .int()
        .min(1)
        .max(1_048_576)
        .default(1_048_576)
        .describe(
          'The largest body accepted, in bytes (default and most 1 MiB); past it 413 payload_too_large.',
        ),
      input: z
        .object({
          defaults: JsonObject.optional().describe('Values merged under the payload.'),
          query: z
            .boolean()
            .default(false)
            .describe(
              'Add the URL query parameters as `_query` (default off). Unsigned: no signature scheme covers the URL, so whoever relays or replays a delivery can change them; never trust them for a decision.',
            ),
          headers: z.array(HeaderName).max(32).optional().describe('Request headers copied into `_headers`.'),
        })
        .strict()
        .prefault({})
        .describe(
          "What the run's input is: the JSON payload (a form body as its fields), with these additions.",
        ),
      filter: z
        .object({
          headers: HeaderMap(z.array(z.string()).min(1).max(64))
            .optional()
            .describe('Each header must equal one of the values.'),
          fields: z
            .array(
              z
                .object({
                  path: z.string().min(1).max(256).describe('Dot path into the JSON payload, e.g. "ref".'),
                  values: z
                    .array(z.string())
                    .min(1)
                    .max(64)
                    .describe('The values the field may equal (as strings).'),
                })
                .strict(),
            )
            .max(16)
            .optional()
            .describe('Each payload field must equal one of the values.'),
        })
        .strict()
        .optional()
        .describe('Deliveries that do not match are acknowledged (202) and start nothing.'),
      idempotency: withRules(
        z
          .object({
            header: HeaderName.optional().describe(
              'A request header carrying the delivery id, e.g. Idempotency-Key.',
            ),
            field: z.string().min(1).max(256).optional().describe('Dot path into the payload.'),
          })
          .strict(),
        {
          rule: '!(has(self.header) && has(self.field))',
          message: 'set header or field, not both',
          check: (i) => i.header === undefined || i.field === undefined,
        },
      )
        .optional()
        .describe("Where the delivery id comes from (default: the scheme's own, e.g. X-GitHub-Delivery)."),
      response: withRules(
        responseFields(ResponseHeaders),
        {
          // has(): the API server also checks the object's default ({}), before its fields are defaulted.
          rule: "!has(self.includeOutput) || !self.includeOutput || (has(self.mode) && self.mode == 'wait')",
          message: 'includeOutput applies only to mode wait',
          check: (r) => !r.includeOutput || r.mode === 'wait',
        },
        {
          rule: "!has(self.body) || !has(self.mode) || self.mode == 'async'",
          message: 'response.body applies only to async mode',
          check: (r) => r.body === undefined || r.mode === 'async',
        },
      )
        .prefault({})
        .describe(
          'How an accepted delivery is answered: at once (async, 202) or once its run has finished (wait).',
        ),
      handshakes: mapList(Handshake, 'name', 8)
        .optional()
        .describe(
          "Handshakes the ingress answers for this trigger besides its deliveries, never starting a run (a provider's own are implied; the slack scheme implies slack). A method other than POST reaches the trigger only through one of these.",
        ),
    })
    .strict(),
  {
    rule: `!has(self.handshakes) || !self.handshakes.exists(h, h.name in ${celList(SIGNED_HANDSHAKES)}) || has(self.auth.signature) || has(self.auth.provider)`,
    message: `the ${SIGNED_HANDSHAKES.join(', ')} handshakes are signed: set auth.signature or auth.provider`,
    check: (s) =>
      !declares(s, SIGNED_HANDSHAKES) || s.auth.signature !== undefined || s.auth.provider !== undefined,
  },
  {
    rule: "!has(self.handshakes) || !self.handshakes.exists(h, h.name == 'asana-hook-secret') || ((has(self.auth.signature) || has(self.auth.provider)) && !(has(self.auth.signature) && has(self.auth.signature.secretRef)))",
    message:
      'the asana-hook-secret handshake captures the signing secret: set auth.signature (or auth.provider) without secretRef',
    check: (s) =>
      !declares(s, ['asana-hook-secret']) ||
      ((s.auth.signature !== undefined || s.auth.provider !== undefined) &&
        s.auth.signature?.secretRef === undefined),
  },
).describe('A public endpoint bound to one Workflow: who may call it, how often, and what a call starts.');

/** How one kind of rejection was last seen (status.rejections.<outcome>). */
export const Rejection = z
  .object({
    lastTime: z.string().describe('When the ingress last refused a delivery this way (RFC 3339).'),
    count: z
      .number()
      .int()
      .min(1)
      .describe(
        'How many deliveries the ingress replica that wrote this entry refused this way since it last wrote it (rejections are written at most once a minute per trigger).',
      ),
    statusCode: z.number().int().min(400).max(599).describe('The HTTP status the sender got.'),
    reason: z
      .string()
      .max(63)
      .optional()
      .describe(
        "Why, from a fixed set: the verification failure (e.g. invalid_signature, timestamp_out_of_tolerance) or the trigger's not-Ready reason. Never anything the sender sent.",
      ),
  })
  .strict();

export const Rejections = z
  .object(
    Object.fromEntries(
      REJECTION_OUTCOMES.map((o) => [
        o,
        Rejection.optional().describe(`The latest delivery refused as ${o}.`),
      ]),
    ) as Record<RejectionOutcome, z.ZodOptional<typeof Rejection>>,
  )
  .strict()
  .describe(
    'The latest delivery refused, per outcome (the error.code the sender got; docs/troubleshooting.md says what each means). Written by the ingress.',
  );

export const WebhookTriggerStatus = statusSchema(
  {
    url: z
      .string()
      .optional()
      .describe("The public URL senders post to (the chart's publicBaseURL and path)."),
    path: z.string().optional().describe('The URL path the ingress serves it on: /hooks/<namespace>/<name>.'),
    credentialsSecret: z
      .string()
      .optional()
      .describe(
        'The Secret in this namespace holding the generated credentials (token, signingSecret, ...).',
      ),
    tokenPrefix: z
      .string()
      .optional()
      .describe('The first 8 characters of the bearer token, to tell tokens apart (never the whole token).'),
    signingSecretSet: z.boolean().optional().describe('Whether a signing secret is in place.'),
    lastRotationTime: z.string().optional().describe('When the credentials were last rotated (RFC 3339).'),
    previousCredentialsValidUntil: z
      .string()
      .optional()
      .describe('After a rotation: until when the previous credentials are still accepted (RFC 3339).'),
    lastTriggeredTime: z
      .string()
      .optional()
      .describe(
        'When a verified delivery was last let through (RFC 3339; written by the ingress, in batches).',
      ),
    urlTokenRef: SecretKeyRef.optional().describe(
      'The Secret key holding the URL token: the full URL is `<url>/<token>` (`hookgate url --with-token`).',
    ),
    secretCapture: z
      .object({
        state: z.enum(['Waiting', 'Captured']).describe('Waiting or Captured.'),
        capturedTime: z.string().optional().describe('When the secret was captured (RFC 3339).'),
      })
      .strict()
      .optional()
      .describe(
        'The asana handshake: Waiting until the first X-Hook-Secret is captured as the signing secret, then Captured (annotate hookgate.io/rotate to wait for a new one).',
      ),
    handshakes: mapList(
      z
        .object({
          name: z.string().max(63).describe('The handshake, as in spec.handshakes.'),
          lastAnsweredTime: z.string().describe('When it was last answered (RFC 3339).'),
        })
        .strict(),
      'name',
      16,
    )
      .optional()
      .describe(
        'Handshakes the ingress answered, each with the time of its last answer (written in batches).',
      ),
    snsSubscriptions: mapList(
      z
        .object({
          topicArn: z.string().max(400).describe('The SNS topic.'),
          state: z
            .enum(['Confirmed', 'Unconfirmed', 'Unsubscribed'])
            .describe('Confirmed, Unconfirmed (received and left unconfirmed) or Unsubscribed.'),
          lastTransitionTime: z.string().describe('When state last changed (RFC 3339).'),
        })
        .strict(),
      'topicArn',
      32,
    )
      .optional()
      .describe(
        'provider aws-sns: each topic whose SubscriptionConfirmation (Confirmed: its SubscribeURL was fetched) or UnsubscribeConfirmation the ingress received.',
      ),
    rejections: Rejections.optional(),
  },
  'What the operator and the ingress observed: conditions, the URL, credentials, recent refusals.',
);

export const WebhookTriggerSchema = objectSchema('WebhookTrigger', {
  spec: WebhookTriggerSpec,
  status: WebhookTriggerStatus.optional(),
});

export type WebhookTriggerSpec = z.infer<typeof WebhookTriggerSpec>;
export type WebhookTriggerStatus = z.infer<typeof WebhookTriggerStatus>;
export type Rejection = z.infer<typeof Rejection>;
/** The status fields the operator owns: the others are written by the ingress. */
export type OperatorTriggerStatus = Omit<
  WebhookTriggerStatus,
  'lastTriggeredTime' | 'rejections' | 'handshakes' | 'snsSubscriptions'
>;
export type WebhookTrigger = z.infer<typeof WebhookTriggerSchema>;
export type Signature = z.infer<typeof Signature>;
export type Auth = z.infer<typeof Auth>;
