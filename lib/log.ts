import { type Logger, pino } from 'pino';

/** JSON logs on stdout. Secret-bearing fields are redacted should one ever be passed by mistake. */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
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
  });
}
export type { Logger };
