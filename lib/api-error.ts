/**
 * A failed API request: the HTTP status and the response body (a Status, as text). Shaped like
 * client-node's ApiException (`code`, `body`), so `statusOf` and `statusMessage` in lib/kube.ts read
 * both, without importing client-node (see lib/kubeconfig.ts); nothing else reads `code`. The
 * message never carries the body, which may hold an object's data: only `detail`, the Status's own
 * message, when given.
 */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    what: string,
    readonly body: string,
    detail = '',
  ) {
    super(`${what}: HTTP ${code}${detail ? `: ${detail}` : ''}`);
    this.name = 'ApiError';
  }
}
