// Kubernetes timestamps, one way. The API server's JSON carries RFC 3339 strings, client-node's typed
// calls turn them into Dates; both are read here.

/** `metav1.Time`: RFC 3339 in whole seconds. */
export const timestamp = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');

/** RFC 3339 text of a timestamp whether it arrived as JSON text or as a Date. */
export const timeOf = (v: Date | string | undefined): string | undefined =>
  v === undefined ? undefined : typeof v === 'string' ? v : timestamp(v);

/** Milliseconds since the epoch; NaN when absent. */
export const millis = (v: Date | string | undefined) =>
  v === undefined ? Number.NaN : new Date(v).getTime();
