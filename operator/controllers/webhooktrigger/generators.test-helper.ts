import type { Generators } from './desired.ts';

/** Deterministic generators that count their calls, so a test can prove nothing was generated. */
export function counting(): Generators & { calls: number } {
  const g = {
    calls: 0,
    token: () => `hgt_token${++g.calls}`,
    signingSecret: () => `whsec_secret${++g.calls}`,
    basic: () => ({ username: `hguser${++g.calls}`, password: `pass${g.calls}` }),
    urlToken: () => `hgu_url${++g.calls}`,
    bodySecret: () => `hgs_body${++g.calls}`,
    verifyToken: () => `hgv_verify${++g.calls}`,
  };
  return g;
}
