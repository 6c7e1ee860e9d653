/**
 * A failed API request: the HTTP status and the response body (a Status, as text). Shaped like
 * client-node's ApiException (`code`, `body`), so `statusOf` and `statusMessage` in lib/kube.ts read
 * both, without importing client-node (see lib/kubeconfig.ts). Neither the message nor a log line
 * ever carries the body: it may hold an object's data, so it is not enumerable (pino's error
 * serializer and JSON.stringify print only enumerable fields). The message carries only `detail`,
 * the Status's own message, when given.
 */
export class ApiError extends Error {
  declare readonly body: string;

  constructor(
    readonly code: number,
    what: string,
    body: string,
    detail = '',
  ) {
    super(`${what}: HTTP ${code}${detail ? `: ${detail}` : ''}`);
    this.name = 'ApiError';
    Object.defineProperty(this, 'body', { value: body, enumerable: false });
  }
}
