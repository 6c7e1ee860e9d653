import { type Logger, pino, destination as pinoDestination } from 'pino';

/** JSON logs on stdout. Secret-bearing fields are redacted should one ever be passed by mistake. */
export function createLogger(
  name: string,
  level = process.env.LOG_LEVEL ?? 'info',
  opts: { async?: boolean } = {},
): Logger {
  // async: buffered writes for the ingress's per-request lines (synchronous writes were the largest
  // single cost of a rejected delivery); the caller flushes on shutdown.
  const destination = opts.async ? pinoDestination({ sync: false }) : undefined;
  return pino(
    {
      name,
      level,
      redact: {
        paths: [
          'token',
          'secret',
          'signature',
          'authorization',
          '*.token',
          '*.secret',
          '*.authorization',
          'req.headers',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
export type { Logger };
