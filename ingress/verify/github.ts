import { decodeDigest, fail, header, hmac, type Scheme, signedByAny, signedOk } from './common.ts';

const HEADER = 'X-Hub-Signature-256';
const PREFIX = 'sha256=';

export const github: Scheme = {
  verify(_sig, secrets, req) {
    const value = header(req, HEADER);
    if (value === undefined) return fail('missing_signature');
    const digest = value.startsWith(PREFIX) ? decodeDigest(value.slice(PREFIX.length), 'hex') : undefined;
    if (!digest) return fail('malformed_signature');
    return signedByAny(secrets, [digest], req.body) ? signedOk(req.body) : fail('invalid_signature');
  },
  sign(_sig, secret, body) {
    return { [HEADER]: `${PREFIX}${hmac(secret, body).toString('hex')}` };
  },
};
