import { header, type Scheme } from './common.ts';
import { timestampedHeader, verifyTimestampedHeader } from './timestamped.ts';

/** `Stripe-Signature: t=<s>,v1=<hex>[,v1=...][,v0=...]`; v0 (test-mode) entries never verify. */
const HEADER = 'Stripe-Signature';

export const stripe: Scheme = {
  verify(sig, secrets, req, now) {
    return verifyTimestampedHeader(header(req, HEADER), 1000, sig.toleranceSeconds, secrets, req.body, now);
  },
  sign(_sig, secret, body, now) {
    return { [HEADER]: timestampedHeader(secret, body, Math.floor(now / 1000)) };
  },
};
