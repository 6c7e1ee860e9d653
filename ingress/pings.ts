import type { IncomingHttpHeaders } from 'node:http';
import type { Route } from '../api/v1alpha1/index.ts';
import { fieldAt, header, scalarText } from './verify/common.ts';

/**
 * Whether a verified delivery is its provider's ping (GitHub `ping`, Bitbucket `diagnostics:ping`,
 * Intercom `ping`): answered 200 and never run. Only what the provider's row names is a ping.
 */
export function isPing(route: Route, payload: unknown, headers: IncomingHttpHeaders): boolean {
  return (route.provider?.pings ?? []).some(({ source, values }) => {
    const value =
      'header' in source ? header({ headers }, source.header) : scalarText(fieldAt(payload, source.field));
    return value !== undefined && values.includes(value);
  });
}
