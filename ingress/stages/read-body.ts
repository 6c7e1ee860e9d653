import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { reserveBody } from '../body-budget.ts';
import { HttpError, tooLarge } from '../http/errors.ts';
import { exchangeOf } from '../http/exchange.ts';
import type { StageContext } from './context.ts';

// A body cut short after it passed the limit: the rest is never read, so the connection closes.
const CLOSE = { connection: 'close' };

/**
 * Stage 2: the raw bytes, for every content type: signatures are checked over exactly what was
 * received, and the input stage decides what the bytes mean after that. The trigger's own
 * `maxBodyBytes` is enforced while the body streams, chunked or not: 413 as soon as it is passed.
 * A body of declared length was reserved from the body budget on admission; a chunked one is
 * reserved chunk by chunk as it arrives.
 */
export const readBody = fp(
  async (app: FastifyInstance, { bodies }: StageContext) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (request: FastifyRequest, payload, done) => {
      const x = exchangeOf(request);
      x.trace?.stage('read body');
      const route = x.route!;
      const limit = route.maxBodyBytes;
      const declared = Number(request.headers['content-length']);
      const chunked = !(declared > 0);
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (err: Error | null, body?: Buffer) => {
        payload.removeListener('data', onData);
        payload.removeListener('end', onEnd);
        payload.removeListener('error', onError);
        done(err, body);
      };
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) {
          payload.pause();
          return finish(tooLarge(route, CLOSE));
        }
        if (chunked) {
          try {
            reserveBody(bodies, x, x.client!, chunk.length);
          } catch (err) {
            payload.pause();
            return finish(err as HttpError);
          }
        }
        chunks.push(chunk);
      };
      const onEnd = () => {
        if (!Number.isNaN(declared) && declared !== size) {
          finish(new HttpError(400, 'bad_request', 'the body does not match its Content-Length', CLOSE));
        } else finish(null, Buffer.concat(chunks, size)); // a copy: chunks may view the socket buffer
      };
      const onError = () => finish(new HttpError(400, 'bad_request', 'the body could not be read', CLOSE));
      payload.on('data', onData);
      payload.on('end', onEnd);
      payload.on('error', onError);
    });
  },
  { name: 'hookgate-read-body' },
);
