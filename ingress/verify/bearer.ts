import { fail, header, OK, secretsEqual, type VerifyRequest, type VerifyResult } from './common.ts';

/** `Authorization: Bearer <token>`; the scheme word is case-insensitive (RFC 7235). */
export function verifyBearer(tokens: string[], req: VerifyRequest): VerifyResult {
  const given = /^bearer\s+(.*)$/i.exec(header(req, 'authorization') ?? '')?.[1]?.trim();
  if (!given) return fail('missing_token');
  return tokens.some((token) => secretsEqual(given, token)) ? OK : fail('invalid_token');
}
