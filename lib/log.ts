import { type Logger, pino, destination as pinoDestination } from 'pino';

/** JSON logs on stdout. Secret-bearing fields are redacted should one ever be passed by mistake. */
export function createLogger(
  name: string,
  level = process.env.LOG_LEVEL ?? 'info',
  opts: { async?: boolean } = {},
): Logger {
  // async: buffered writes for the ingress's per-request lines (synchronous writes were the largest
  // single cost of a rejected delivery), at least 4 KiB or a second's worth per write: one write per
  // line was still a tenth of a rejected delivery's CPU (`make bench` profile). pino flushes what is
  // buffered at exit; only a killed process loses its last second of lines.
  const destination = opts.async
    ? pinoDestination({ sync: false, minLength: 4096, periodicFlush: 1000 })
    : undefined;
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
