import type { Route } from '../../api/v1alpha1/index.ts';

// Headers a trigger's `response.headers` may not set: they would corrupt the HTTP framing.
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade']);

/** The trigger's `response.headers` for its 2xx answers, without those that frame HTTP. */
export function responseHeaders(route: Route): Record<string, string> {
  return Object.fromEntries(
    Object.entries(route.response.headers ?? {}).filter(([name]) => !FRAMING.has(name.toLowerCase())),
  );
}
