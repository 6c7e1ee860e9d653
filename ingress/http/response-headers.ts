import { isReservedResponseHeader, type Route } from '../../api/v1alpha1/index.ts';

/**
 * The trigger's `response.headers` for its 2xx answers. The CRD refuses reserved headers; a route
 * written before it did still has them dropped here.
 */
export function responseHeaders(route: Route): Record<string, string> {
  return Object.fromEntries(
    Object.entries(route.response.headers ?? {}).filter(([name]) => !isReservedResponseHeader(name)),
  );
}
