import {
  DEFAULT_IDENTITY_TOLERANCE,
  type IdentityVerifier,
  KEY_ALGORITHM,
  type OidcAuth,
  providerNamed,
  type WebhookTriggerSpec,
} from '../api/v1alpha1/index.ts';
import { compileRule, RuleError } from './claims.ts';
import { KeyFormatError, parsePublicKey } from './public-key.ts';

/**
 * The identity verifier of a trigger (identity.ts in the API), made by the operator from the spec
 * and the values its Secret references hold. Everything that can be checked before a delivery is:
 * a public key that does not parse, a CEL rule that does not compile or a pinned JWKS that is not
 * one is an IdentityConfigError, which the operator shows as Stalled (its message names no value).
 */
export class IdentityConfigError extends Error {}

export interface IdentityValues {
  /** The public keys, in the order of auth.publicKeys (inline values and referenced ones). */
  publicKeys?: string[];
  /** The pinned JWKS's text (auth.oidc.jwks.secretRef). */
  jwks?: string;
}

const MAX_JWKS = 64 * 1024;

function checkedJwks(text: string): string {
  let parsed: unknown;
  try {
    parsed = text.length <= MAX_JWKS ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  const keys = (parsed as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > 64)
    throw new IdentityConfigError(
      'the pinned JWKS is not a JSON Web Key Set of 1 to 64 keys (at most 64 KiB)',
    );
  return JSON.stringify(parsed);
}

function oidcVerifier(
  oidc: OidcAuth,
  providerName: string | undefined,
  jwks: string | undefined,
): IdentityVerifier {
  const preset = providerName ? providerNamed(providerName)?.auth : undefined;
  const fixed = preset?.type === 'oidc' ? preset : undefined;
  const rules = [...(fixed?.rules ?? []), ...(oidc.claimValidationRules ?? [])];
  for (const rule of rules) {
    try {
      compileRule(rule.expression);
    } catch (err) {
      if (err instanceof RuleError)
        throw new IdentityConfigError(`claim rule "${rule.message}": ${err.message}`);
      throw err;
    }
  }
  return {
    type: 'oidc',
    issuer: (fixed?.issuer ?? oidc.issuer)!,
    audiences: oidc.audiences,
    ...(oidc.claims?.length ? { claims: oidc.claims } : {}),
    ...(rules.length ? { rules } : {}),
    ...(jwks !== undefined ? { jwks: checkedJwks(jwks) } : {}),
    ...(fixed?.jwksUri ? { jwksUri: fixed.jwksUri } : {}),
    ...(oidc.clockSkewSeconds !== undefined ? { clockSkewSeconds: oidc.clockSkewSeconds } : {}),
    ...(oidc.maxTokenSeconds !== undefined ? { maxTokenSeconds: oidc.maxTokenSeconds } : {}),
  };
}

/** The trigger's identity verifier, or undefined when it has none (a shared-secret trigger). */
export function identityVerifier(
  auth: WebhookTriggerSpec['auth'],
  values: IdentityValues,
): IdentityVerifier | undefined {
  if (auth.oidc) return oidcVerifier(auth.oidc, auth.provider, values.jwks);
  const preset = auth.provider ? providerNamed(auth.provider)?.auth : undefined;
  if (!preset) return undefined;
  switch (preset.type) {
    case 'public-key': {
      const keys = values.publicKeys ?? [];
      keys.forEach((key, i) => {
        try {
          parsePublicKey(key, KEY_ALGORITHM[preset.format]);
        } catch (err) {
          if (err instanceof KeyFormatError)
            throw new IdentityConfigError(`auth.publicKeys[${i}]: ${err.message}`);
          throw err;
        }
      });
      if (keys.length === 0) throw new IdentityConfigError('auth.publicKeys is empty');
      return {
        type: 'public-key',
        format: preset.format,
        keys,
        toleranceSeconds: DEFAULT_IDENTITY_TOLERANCE['public-key'],
      };
    }
    case 'aws-sns':
      return {
        type: 'aws-sns',
        topics: auth.sns!.topicArns,
        confirm: auth.sns!.confirmSubscriptions,
        toleranceSeconds: DEFAULT_IDENTITY_TOLERANCE['aws-sns'],
      };
    case 'paypal':
      return {
        type: 'paypal',
        webhookId: auth.paypal!.webhookId,
        toleranceSeconds: DEFAULT_IDENTITY_TOLERANCE.paypal,
      };
    default:
      return undefined;
  }
}
