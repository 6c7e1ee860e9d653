import { UrlRefused } from '../outbound/url.ts';
import { CertificateRefused } from './certificates.ts';

/** For `.catch`: a refused URL or certificate is the sender's failure (undefined); anything else, such as an outbound failure, propagates. */
export function certificateRefusal(err: unknown): undefined {
  if (err instanceof UrlRefused || err instanceof CertificateRefused) return undefined;
  throw err;
}
