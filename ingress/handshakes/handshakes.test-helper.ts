// What the handshake tests share: an app over one route, its clock at NOW, and the checks that a
// handshake answered is never a delivery.
import { afterEach, expect } from 'vitest';
import { sample, testApp, testRoute } from '../http/fakes.test-helper.ts';

export const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
export const PATH = '/hooks/team-a/deploy';
export const URL_TOKEN = 'hgu_Jc1Fz0mWn3e5Qb8tY2rK6pS9vD4xA7hL0uG3iN5oE1w';
export const VERIFY_TOKEN = 'hgv_3kP9sWq2Lr7Xn1Bz5Ct8Md4Fy6Gh0Jv2Ka9Ue3Ro1Ti';

export type Apps = ReturnType<typeof testApp>;
type Response = Awaited<ReturnType<Apps['app']['inject']>>;

/** Apps made by `setup`, closed after each test of the file that calls `closeApps()`. */
const apps: Apps[] = [];
export function closeApps() {
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.app.close()));
  });
}

export function setup(overrides: Parameters<typeof testRoute>[0], deps: Parameters<typeof testApp>[1] = {}) {
  const t = testApp([testRoute(overrides)], deps, { ms: NOW });
  apps.push(t);
  return t;
}

/** POSTs the JSON `body` to the trigger (or to `url`) with `headers`. */
export const postJson = (t: Apps, body: string, headers: Record<string, string>, url = PATH) =>
  t.app.inject({
    method: 'POST',
    url,
    payload: body,
    headers: { 'content-type': 'application/json', ...headers },
  });

/** Nothing ran and nothing was recorded as a use: a handshake is never a delivery. */
export function expectNoRun(t: Apps) {
  expect(t.launcher.runs.size).toBe(0);
  expect(t.used).toHaveLength(0);
}

/** Answered once as the handshake `name`: no run, recorded for the trigger's status, counted. */
export async function expectHandshake(t: Apps, name: string) {
  expectNoRun(t);
  expect(t.handshakes).toEqual([`team-a/deploy ${name}`]);
  expect(await sample(t.registry, 'hookgate_ingress_requests_total', { outcome: `handshake_${name}` })).toBe(
    1,
  );
}

/** Answered 200 as the handshake `name` with `answer`: a string as text, anything else as JSON, never sniffed. */
export async function expectAnswered(t: Apps, res: Response, name: string, answer: unknown) {
  expect(res.statusCode).toBe(200);
  if (typeof answer === 'string') {
    expect(res.headers).toMatchObject(SAFE_TEXT);
    expect(res.body).toBe(answer);
  } else {
    expect(res.headers).toMatchObject(SAFE_JSON);
    expect(res.json()).toEqual(answer);
  }
  await expectHandshake(t, name);
}

/** Refused 401 without an echo of the `challenge`. */
export function expectRefused(res: { statusCode: number; body: string }, challenge: string) {
  expect(res.statusCode).toBe(401);
  expect(res.body).not.toContain(challenge);
}

const SAFE_TEXT = { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' };
const SAFE_JSON = {
  'content-type': 'application/json; charset=utf-8',
  'x-content-type-options': 'nosniff',
};
