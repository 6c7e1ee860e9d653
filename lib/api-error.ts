/**
 * A failed API request: the HTTP status and the response body (a Status, as text). Shaped like
 * client-node's ApiException (`code`, `body`), so `statusOf` and `statusMessage` read both, without
 * importing client-node (see lib/kubeconfig.ts). The message never carries the body: it may hold an
 * object's data.
 */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    what: string,
    readonly body: string,
  ) {
    super(`${what}: HTTP ${code}`);
    this.name = 'ApiError';
  }
}
