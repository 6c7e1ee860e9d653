import { randomBytes } from 'node:crypto';
import {
  SIGNING_SECRET_PREFIX,
  TOKEN_PREFIX,
  URL_SAFE_SECRET_PREFIX,
  URL_TOKEN_PREFIX,
  VERIFY_TOKEN_PREFIX,
} from '../../../api/v1alpha1/index.ts';
import type { Generators } from './desired.ts';

const random = () => randomBytes(32).toString('base64url');

/**
 * Credentials from the CSPRNG, 256 bits each (a Basic username 48 more); `whsec_` + base64 is the
 * Standard Webhooks form. Everything but that form is `A-Za-z0-9_-`: safe in a URL path, a query,
 * a header and a Basic credential (no `:`).
 */
export const cryptoGenerators: Generators = {
  token: () => TOKEN_PREFIX + random(),
  signingSecret: (format = 'whsec') => {
    const bytes = randomBytes(32);
    if (format === 'url-safe') return URL_SAFE_SECRET_PREFIX + bytes.toString('base64url');
    if (format === 'base64' || format === 'hex') return bytes.toString(format);
    return SIGNING_SECRET_PREFIX + bytes.toString('base64');
  },
  basic: () => ({ username: `hg${randomBytes(6).toString('hex')}`, password: random() }),
  urlToken: () => URL_TOKEN_PREFIX + random(),
  bodySecret: () => URL_SAFE_SECRET_PREFIX + random(),
  verifyToken: () => VERIFY_TOKEN_PREFIX + random(),
};
