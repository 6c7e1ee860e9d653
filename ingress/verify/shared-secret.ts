import { SHARED_SECRET_HEADER as DEFAULT_HEADER } from '../../api/v1alpha1/index.ts';
import { fail, header, OK, type Scheme, secretsEqual } from './common.ts';

// No signature: the secret itself travels in a header (reference 000).

export const sharedSecret: Scheme = {
  verify(sig, secrets, req) {
    const value = header(req, sig.header ?? DEFAULT_HEADER);
    if (!value) return fail('missing_signature');
    return secrets.some((secret) => secretsEqual(value, secret)) ? OK : fail('invalid_signature');
  },
  sign(sig, secret) {
    return { [sig.header ?? DEFAULT_HEADER]: secret };
  },
};
