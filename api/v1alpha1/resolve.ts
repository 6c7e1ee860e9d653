import { type HandshakeName, type Provider, providerNamed } from './providers.ts';
import type { HmacVerifier, PingMatch, SecretFormat, ValueSource, Verifier } from './verifier.ts';
import type { SignatureScheme, WebhookTriggerSpec } from './webhooktrigger.ts';

// From what a trigger says (a provider, a scheme and its knobs) to what the ingress runs: one
// verifier configuration. The operator writes the result into the Route; the CLI signs with it; the
// ingress resolves a route of an older operator (scheme and knobs, no verifier) the same way.

type Auth = WebhookTriggerSpec['auth'];
/** The signature knobs, as a trigger or a route of an older operator states them. */
export type SignatureKnobs = Omit<NonNullable<Auth['signature']>, 'secretRef'> & { scheme?: SignatureScheme };

export const DEFAULT_TOLERANCE_SECONDS = 300;
export const DEFAULT_REPLAY_WINDOW_SECONDS = 3600;
export const DEFAULT_SIGNATURE_HEADER = 'X-Webhook-Signature';
export const DEFAULT_SECRET_HEADER = 'X-Webhook-Secret';

/** What a route carries of the provider besides its verifier. */
export interface ProviderFacts {
  name: string;
  deliveryId?: ValueSource;
  pings?: PingMatch[];
  handshakes?: HandshakeName[];
}

export interface ResolvedAuth {
  /** Deliveries carry the trigger's bearer token. */
  bearer: boolean;
  /** How the signing secret (or header secret) is checked; absent when the trigger has none. */
  verifier?: Verifier;
  provider?: ProviderFacts;
  /** How a generated signing secret is written (whsec_ + base64 when absent). */
  secretFormat?: SecretFormat;
}

const row = (name: string): Provider => {
  const p = providerNamed(name);
  if (!p) throw new Error(`unknown provider ${name}`);
  return p;
};

export function resolveAuth(auth: Auth): ResolvedAuth {
  if (!auth.provider) {
    const verifier = auth.signature && signatureVerifier(auth.signature);
    return { bearer: !!auth.bearer, ...(verifier ? { verifier } : {}), ...formatOf(verifier) };
  }
  const p = row(auth.provider);
  const verifier =
    p.auth.type === 'hmac' || p.auth.type === 'secret'
      ? withOverrides(p.auth, auth.signature ?? {})
      : undefined;
  return {
    bearer: !!auth.bearer || p.auth.type === 'bearer',
    ...(verifier ? { verifier } : {}),
    provider: facts(p),
    ...formatOf(verifier, p.urlSafeSecret),
  };
}

/** A generated secret must be a key of the verifier's key encoding (and what the provider accepts). */
function formatOf(v: Verifier | undefined, urlSafe?: boolean): { secretFormat?: SecretFormat } {
  if (urlSafe) return { secretFormat: 'url-safe' };
  if (v?.type === 'hmac' && (v.keyEncoding === 'base64' || v.keyEncoding === 'hex'))
    return { secretFormat: v.keyEncoding };
  return {};
}

const facts = (p: Provider): ProviderFacts => ({
  name: p.name,
  ...(p.deliveryId ? { deliveryId: p.deliveryId } : {}),
  ...(p.pings ? { pings: p.pings } : {}),
  ...(p.handshakes ? { handshakes: p.handshakes } : {}),
});

function withOverrides(
  v: Verifier,
  { toleranceSeconds, replayWindowSeconds }: { toleranceSeconds?: number; replayWindowSeconds?: number },
): Verifier {
  if (v.type !== 'hmac') return v;
  return {
    ...v,
    ...(v.timestamp && toleranceSeconds !== undefined
      ? { timestamp: { ...v.timestamp, toleranceSeconds } }
      : {}),
    ...(!v.timestamp && replayWindowSeconds !== undefined ? { replayWindowSeconds } : {}),
  };
}

/** Schemes that are the verifier of the provider of the same name (without its pings and handshakes). */
const SCHEME_PROVIDERS: Partial<Record<SignatureScheme, string>> = {
  github: 'github',
  stripe: 'stripe',
  slack: 'slack',
  'standard-webhooks': 'standard-webhooks',
};

/** The verifier of a `signature` stated by scheme and knobs. */
export function signatureVerifier(s: SignatureKnobs): Verifier {
  const scheme = s.scheme ?? 'hmac-sha256';
  const preset = SCHEME_PROVIDERS[scheme];
  if (preset) return withOverrides(row(preset).auth as Verifier, s);
  if (scheme === 'shared-secret') return { type: 'secret', header: s.header ?? DEFAULT_SECRET_HEADER };
  const base = {
    type: 'hmac' as const,
    signature: { headers: [s.header ?? DEFAULT_SIGNATURE_HEADER] },
    ...(s.replayWindowSeconds !== undefined ? { replayWindowSeconds: s.replayWindowSeconds } : {}),
  };
  if (scheme === 'timestamped') {
    return {
      ...base,
      algorithm: 'sha256',
      keyEncoding: 'utf8',
      list: { separator: ',', assign: '=', key: 'v1' },
      encoding: 'hex',
      content: '{timestamp}.{body}',
      timestamp: {
        source: { entry: 't' },
        format: s.timestampUnit ?? 'seconds',
        toleranceSeconds: s.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS,
      },
    };
  }
  // hmac-sha256 is hmac with its defaults.
  const v: HmacVerifier = {
    ...base,
    algorithm: s.algorithm ?? 'sha256',
    keyEncoding: s.keyEncoding ?? 'utf8',
    ...(s.prefix ? { prefix: s.prefix } : {}),
    ...(s.signatureList ? { list: s.signatureList } : {}),
    encoding: s.encoding ?? 'hex',
    content: s.signedContent ?? '{body}',
  };
  if (s.timestamp) {
    const { header, field, listKey, format } = s.timestamp;
    v.timestamp = {
      source: header !== undefined ? { header } : field !== undefined ? { field } : { entry: listKey! },
      format,
      toleranceSeconds: s.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS,
    };
  }
  return v;
}

/** Where a scheme's senders put the delivery id (the provider of the same name's), if anywhere. */
export const schemeDeliveryId = (scheme: SignatureScheme | undefined): ValueSource | undefined => {
  const preset = scheme && SCHEME_PROVIDERS[scheme];
  return preset ? row(preset).deliveryId : undefined;
};
