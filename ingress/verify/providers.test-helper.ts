import { createHmac } from 'node:crypto';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { type ProviderName, providerNamed, resolveAuth } from '../../api/v1alpha1/index.ts';
import { buildApp } from '../app.ts';
import { MemoryLauncher, MemoryRoutes, testRoute } from '../http/fakes.test-helper.ts';
import { sign } from './index.ts';

// One table per family of senders: each case signs a delivery the way the provider does (its own
// npm code, its documented example, or its documented recipe in node:crypto) and sends it to the
// ingress through app.inject(), with the route the operator resolves from the provider's row.

export const PUBLIC_URL = 'https://hooks.example.com/hooks/team-a/deploy';
const PATH = '/hooks/team-a/deploy';

export interface Delivery {
  body: string;
  headers: Record<string, string>;
  /** Default application/json. */
  contentType?: string;
  /** The query string the provider called the URL with (without `?`). */
  query?: string;
}

export interface ProviderCase {
  provider: ProviderName;
  /** How the delivery is signed: the provider's package and function, or its documentation. */
  signedBy: string;
  /** The secret (or token) as the provider's console shows it or hookgate generated it. */
  secret: string;
  sign(now: number): Delivery | Promise<Delivery>;
  /** The same delivery with one signed byte changed (default: one letter of the body). */
  tamper?(d: Delivery): Delivery;
  /** Deliveries carry no signed id and nothing signed: a replay is a new run (README says so). */
  replayRuns?: boolean;
}

/** The HMAC of `text` with `key`, as the recipes compute it: hex unless they say base64. */
export const mac = (
  algorithm: string,
  key: string | Buffer,
  text: string,
  encoding: 'hex' | 'base64' = 'hex',
) => createHmac(algorithm, key).update(text).digest(encoding);

/** A delivery of `payload` as JSON, with the headers computed from its body text (what most recipes sign). */
export function jsonDelivery(payload: unknown, headers: (body: string) => Record<string, string>): Delivery {
  const body = JSON.stringify(payload);
  return { body, headers: headers(body) };
}

/** One letter of the body changed: JSON and forms stay well-formed, the signature does not. */
export function changeOneByte(d: Delivery): Delivery {
  const at = d.body.search(/[a-y]/);
  if (at < 0) throw new Error('no letter to change');
  const body = d.body.slice(0, at) + String.fromCharCode(d.body.charCodeAt(at) + 1) + d.body.slice(at + 1);
  return { ...d, body };
}

/** The route the operator publishes for `provider` with `secret` (resolve.ts, as desiredRoute does). */
export function providerRoute(provider: ProviderName, secret: string) {
  const auth = resolveAuth({ provider });
  return testRoute({
    auth: {
      ...(auth.bearer ? { tokens: [{ value: secret }] } : {}),
      ...(auth.verifier ? { signature: { verifier: auth.verifier, secrets: [{ value: secret }] } } : {}),
    },
    ...(auth.provider ? { provider: auth.provider } : {}),
    url: PUBLIC_URL,
  });
}

const apps: ReturnType<typeof buildApp>[] = [];

function setup(c: ProviderCase, now: number) {
  const launcher = new MemoryLauncher();
  let clock = now;
  const app = buildApp({
    routes: new MemoryRoutes([providerRoute(c.provider, c.secret)]),
    launcher,
    registry: new Registry(),
    clock: () => clock,
  });
  apps.push(app);
  const send = (d: Delivery) =>
    app.inject({
      method: 'POST',
      url: d.query ? `${PATH}?${d.query}` : PATH,
      payload: d.body,
      headers: { 'content-type': d.contentType ?? 'application/json', ...d.headers },
    });
  return { launcher, send, later: (ms: number) => (clock += ms) };
}

const toleranceOf = (provider: ProviderName) => {
  const v = resolveAuth({ provider }).verifier;
  return v?.type === 'hmac' ? v.timestamp?.toleranceSeconds : undefined;
};

export function providerSuite(cases: ProviderCase[]) {
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });

  describe.each(cases.map((c) => [c.provider, c] as const))('%s', (provider, c) => {
    const now = Date.now();
    const tolerance = toleranceOf(provider);

    it(`accepts a delivery signed by ${c.signedBy}`, async () => {
      const { launcher, send } = setup(c, now);
      const res = await send(await c.sign(now));
      expect(res.statusCode, res.body).toBe(202);
      expect(launcher.runs.size).toBe(1);
    });

    it('refuses it with one signed byte changed: 401, no run', async () => {
      const { launcher, send } = setup(c, now);
      const res = await send((c.tamper ?? changeOneByte)(await c.sign(now)));
      expect(res.statusCode, res.body).toBe(401);
      expect(launcher.runs.size).toBe(0);
    });

    it(
      c.replayRuns ? 'a replay is a new run: nothing is signed' : 'a replay starts no second run',
      async () => {
        const { launcher, send } = setup(c, now);
        const delivery = await c.sign(now);
        expect((await send(delivery)).statusCode).toBe(202);
        const again = await send(delivery);
        expect(again.statusCode, again.body).toBe(c.replayRuns ? 202 : 200);
        expect(launcher.runs.size).toBe(c.replayRuns ? 2 : 1);
      },
    );

    if (tolerance !== undefined) {
      it(`refuses it outside the tolerance (${tolerance} s): 401, no run`, async () => {
        const { launcher, send, later } = setup(c, now);
        const delivery = await c.sign(now);
        later((tolerance + 1) * 1000);
        const res = await send(delivery);
        expect(res.statusCode).toBe(401);
        expect(res.json().error.message).toContain('timestamp_out_of_tolerance');
        expect(launcher.runs.size).toBe(0);
      });
    }

    const row = providerNamed(provider)!;
    if (row.auth.type === 'hmac' && 'headers' in row.auth.signature) {
      it("hookgate's own signer (the CLI's) writes what the ingress accepts", async () => {
        const { send } = setup(c, now);
        const route = providerRoute(provider, c.secret);
        const delivery = await c.sign(now);
        const headers = sign(route.auth.signature!, c.secret, Buffer.from(delivery.body), now, 'id-1', {
          url: PUBLIC_URL + (delivery.query ? `?${delivery.query}` : ''),
          ...(route.provider?.deliveryId ? { deliveryId: route.provider.deliveryId } : {}),
        });
        const res = await send({ ...delivery, headers });
        expect(res.statusCode, res.body).toBe(202);
      });
    }
  });
}
