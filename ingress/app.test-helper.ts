// What the ingress app tests (app-*.test.ts) share: an app over one route with in-memory
// dependencies and its clock at NOW, a POST with the route's bearer token, and a GitHub signature.
import type { Readable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach } from 'vitest';
import type { Route } from '../api/v1alpha1/index.ts';
import { type AppDeps, buildApp } from './app.ts';
import { MemoryLauncher, MemoryRoutes, SECRET, TOKEN, testRoute } from './http/fakes.test-helper.ts';
import { sign } from './verify/index.ts';

export const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
export const PATH = '/hooks/team-a/deploy';
export const BEARER = { authorization: `Bearer ${TOKEN}` };
export const GITHUB = { scheme: 'github' as const, secrets: [{ value: SECRET }] };

export type Overrides = Parameters<typeof testRoute>[0];

/** Apps made by `setup`, closed after each test of the file that calls `closeApps()`. */
const apps: ReturnType<typeof buildApp>[] = [];
export function closeApps() {
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });
}

/** An app over one route (plus any others), with everything it did kept for assertions. */
export function setup(overrides: Overrides = {}, deps: Partial<AppDeps> = {}, others: Route[] = []) {
  const route = testRoute(overrides);
  const routes = new MemoryRoutes([route, ...others]);
  const launcher = new MemoryLauncher();
  const registry = new Registry();
  const used: Route[] = [];
  const logs: Record<string, unknown>[] = [];
  const logText: string[] = [];
  const logger = pino(
    { level: 'info' },
    {
      write: (line: string) => {
        logText.push(line);
        logs.push(JSON.parse(line));
      },
    },
  );
  let now = NOW;
  const app = buildApp({
    routes,
    launcher,
    registry,
    logger,
    clock: () => now,
    recordUse: (r) => used.push(r),
    ...deps,
  });
  apps.push(app);
  const advance = (ms: number) => {
    now += ms;
  };
  return { app, route, routes, launcher, registry, used, logs, logText, advance };
}

export interface Post {
  body?: string | Buffer | Readable;
  headers?: Record<string, string>;
  path?: string;
  remoteAddress?: string;
}

/** POSTs JSON with the route's bearer token unless told otherwise. */
export const post = (
  app: ReturnType<typeof buildApp>,
  { body = '{"ref":"main"}', headers = {}, path = PATH, remoteAddress }: Post = {},
) =>
  app.inject({
    method: 'POST',
    url: path,
    payload: body,
    headers: { 'content-type': 'application/json', ...BEARER, ...headers },
    ...(remoteAddress ? { remoteAddress } : {}),
  });

/** Headers a GitHub sender sets for `body`, signed for real with the route's secret. */
export const githubHeaders = (body: string, id?: string): Record<string, string> => ({
  'content-type': 'application/json',
  ...sign(GITHUB, SECRET, Buffer.from(body), NOW, id),
});
