import type { FastifyRequest } from 'fastify';
import { HttpError } from '../http/errors.ts';
import { exchangeOf } from '../http/exchange.ts';
import { bodyKind, MalformedBodyError, parseBody } from '../input.ts';

const EMPTY = Buffer.alloc(0);

/**
 * The request's body parsed by its content type (depth- and field-capped; 400 when malformed),
 * parsed once for every stage that needs it: a verifier that reads fields, a body-field secret, a
 * handshake, the run's input.
 */
export function payloadOf(request: FastifyRequest): unknown {
  const x = exchangeOf(request);
  if (x.parsed) return x.parsed.value;
  try {
    x.parsed = {
      value: parseBody(bodyKind(request.headers['content-type']), (request.body as Buffer) ?? EMPTY),
    };
  } catch (err) {
    if (err instanceof MalformedBodyError) throw new HttpError(400, 'malformed_body', err.message);
    throw err;
  }
  return x.parsed.value;
}
