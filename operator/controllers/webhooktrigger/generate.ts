import { randomBytes } from 'node:crypto';
import { SIGNING_SECRET_PREFIX, TOKEN_PREFIX, URL_SAFE_SECRET_PREFIX } from '../../../api/v1alpha1/index.ts';
import type { Generators } from './desired.ts';

/** Credentials from the CSPRNG, 256 bits each; `whsec_` + base64 is the Standard Webhooks form. */
export const cryptoGenerators: Generators = {
  token: () => TOKEN_PREFIX + randomBytes(32).toString('base64url'),
  signingSecret: (format = 'whsec') => {
    const bytes = randomBytes(32);
    if (format === 'url-safe') return URL_SAFE_SECRET_PREFIX + bytes.toString('base64url');
    if (format === 'base64' || format === 'hex') return bytes.toString(format);
    return SIGNING_SECRET_PREFIX + bytes.toString('base64');
  },
};
