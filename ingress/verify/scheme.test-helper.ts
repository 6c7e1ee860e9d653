// What the tests of the generic schemes (hmac-sha256, shared-secret, timestamped) share: a table of
// requests, each verified or refused for its reason, against one secret at one time.
import { expect, it } from 'vitest';
import { type SignatureConfig, type VerifyReason, verify } from './index.ts';

export interface SchemeCase {
  name: string;
  /** Over the scheme's defaults. */
  sig?: Partial<SignatureConfig>;
  headers: Record<string, string>;
  /** Why it is refused; none: verified. */
  reason?: VerifyReason;
}

/** verify() of `scheme` with the one `secret` at `now`; `body` unless another is given. */
export const checker =
  (scheme: SignatureConfig['scheme'], secret: string, body: Buffer, now: number) =>
  (sig: Partial<SignatureConfig>, headers: Record<string, string>, other = body) =>
    verify({ signature: { scheme, secrets: [{ value: secret }], ...sig } }, { headers, body: other }, now);

/** A test per case. */
export function verifiesEach(cases: SchemeCase[], check: ReturnType<typeof checker>) {
  it.each(cases)('$name', ({ sig = {}, headers, reason }) => {
    expect(check(sig, headers)).toMatchObject(reason ? { ok: false, reason } : { ok: true });
  });
}
