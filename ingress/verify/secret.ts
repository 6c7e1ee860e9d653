import type { SecretVerifier } from '../../api/v1alpha1/index.ts';
import { fail, header, OK, secretsEqual, type VerifyRequest, type VerifyResult } from './common.ts';

// No signature: the secret itself travels in a header (reference 000; Telegram, Okta, GitLab).

export function verifySecret(v: SecretVerifier, secrets: string[], req: VerifyRequest): VerifyResult {
  const value = header(req, v.header);
  if (!value) return fail('missing_signature');
  const prefix = v.prefix ?? '';
  if (!value.startsWith(prefix)) return fail('invalid_signature');
  const given = value.slice(prefix.length);
  return secrets.some((secret) => secretsEqual(given, secret)) ? OK : fail('invalid_signature');
}

export const signSecret = (v: SecretVerifier, secret: string): Record<string, string> => ({
  [v.header]: `${v.prefix ?? ''}${secret}`,
});
