import {
  decodeDigest,
  fail,
  header,
  hmac,
  parseTimestamp,
  type Scheme,
  signedByAny,
  signedOk,
  withinTolerance,
} from './common.ts';

/** `X-Slack-Signature: v0=<hex>` over "v0:<ts>:<body>", timestamp in seconds in its own header. */
const SIGNATURE = 'X-Slack-Signature';
const TIMESTAMP = 'X-Slack-Request-Timestamp';
const PREFIX = 'v0=';

export const slack: Scheme = {
  verify(sig, secrets, req, now) {
    const value = header(req, SIGNATURE);
    const ts = header(req, TIMESTAMP);
    if (value === undefined || ts === undefined) return fail('missing_signature');
    const timestamp = parseTimestamp(ts);
    const digest = value.startsWith(PREFIX) ? decodeDigest(value.slice(PREFIX.length), 'hex') : undefined;
    if (timestamp === undefined || !digest) return fail('malformed_signature');
    if (!signedByAny(secrets, [digest], `v0:${ts}:`, req.body)) return fail('invalid_signature');
    return withinTolerance(timestamp * 1000, now, sig.toleranceSeconds)
      ? signedOk(`v0:${ts}:`, req.body)
      : fail('timestamp_out_of_tolerance');
  },
  sign(_sig, secret, body, now) {
    const ts = String(Math.floor(now / 1000));
    return { [TIMESTAMP]: ts, [SIGNATURE]: `${PREFIX}${hmac(secret, `v0:${ts}:`, body).toString('hex')}` };
  },
};
