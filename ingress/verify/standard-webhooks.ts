import { randomUUID } from 'node:crypto';
import {
  decodeDigest,
  fail,
  header,
  hmac,
  parseTimestamp,
  type Scheme,
  signedByAny,
  withinTolerance,
} from './common.ts';

/** https://www.standardwebhooks.com: `v1,<base64>` entries over "<id>.<ts>.<body>". */
const ID = 'webhook-id';
const TIMESTAMP = 'webhook-timestamp';
const SIGNATURE = 'webhook-signature';
const SECRET_PREFIX = 'whsec_';

/** The standard's key is the base64 payload of the secret, not its text. */
export function standardKey(secret: string): Buffer {
  return Buffer.from(
    secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret,
    'base64',
  );
}

export const standardWebhooks: Scheme = {
  verify(sig, secrets, req, now) {
    const id = header(req, ID);
    const ts = header(req, TIMESTAMP);
    const value = header(req, SIGNATURE);
    if (id === undefined || ts === undefined || value === undefined) return fail('missing_signature');
    const timestamp = parseTimestamp(ts);
    // Other versions (e.g. v1a, asymmetric) may sit beside v1; only v1 is ours to check.
    const candidates = value
      .split(' ')
      .flatMap((entry) => (entry.startsWith('v1,') ? (decodeDigest(entry.slice(3), 'base64') ?? []) : []));
    if (timestamp === undefined || candidates.length === 0) return fail('malformed_signature');
    // An empty key would make every signature computable by anyone.
    const keys = secrets.map(standardKey).filter((key) => key.length > 0);
    if (!signedByAny(keys, candidates, `${id}.${ts}.`, req.body)) return fail('invalid_signature');
    // The id is signed, and the standard keeps it across a sender's retries.
    return withinTolerance(timestamp * 1000, now, sig.toleranceSeconds)
      ? { ok: true, signed: id }
      : fail('timestamp_out_of_tolerance');
  },
  sign(_sig, secret, body, now, id = `msg_${randomUUID()}`) {
    const ts = String(Math.floor(now / 1000));
    const digest = hmac(standardKey(secret), `${id}.${ts}.`, body).toString('base64');
    return { [ID]: id, [TIMESTAMP]: ts, [SIGNATURE]: `v1,${digest}` };
  },
};
