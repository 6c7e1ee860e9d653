import { decodeDigest, fail, header, hmac, type Scheme, signedByAny, signedOk } from './common.ts';

/** HMAC-SHA256 of the raw body in one header, as `<prefix><hex|base64>` (references 002, 003, 004). */
const DEFAULT_HEADER = 'X-Webhook-Signature';

export const hmacSha256: Scheme = {
  verify(sig, secrets, req) {
    const value = header(req, sig.header ?? DEFAULT_HEADER);
    if (value === undefined) return fail('missing_signature');
    const prefix = sig.prefix ?? '';
    const digest = value.startsWith(prefix)
      ? decodeDigest(
          value.slice(prefix.length),
          sig.encoding === 'base64url' ? 'base64' : (sig.encoding ?? 'hex'),
        )
      : undefined;
    if (!digest) return fail('malformed_signature');
    return signedByAny(secrets, [digest], req.body) ? signedOk(req.body) : fail('invalid_signature');
  },
  sign(sig, secret, body) {
    const digest = hmac(secret, body).toString(sig.encoding ?? 'hex');
    return { [sig.header ?? DEFAULT_HEADER]: `${sig.prefix ?? ''}${digest}` };
  },
};
