import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { HttpError, tooLarge } from '../http/errors.ts';
import { exchangeOf } from '../http/exchange.ts';

// A body cut short after it passed the limit: the rest is never read, so the connection closes.
const CLOSE = { connection: 'close' };

/**
 * Stage 2: the raw bytes, for every content type: signatures are checked over exactly what was
 * received, and the input stage decides what the bytes mean after that. The trigger's own
 * `maxBodyBytes` is enforced while the body streams, chunked or not: 413 as soon as it is passed.
 */
export const readBody = fp(
  async (app: FastifyInstance) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (request: FastifyRequest, payload, done) => {
      const x = exchangeOf(request);
      x.trace?.stage('read body');
      const route = x.route!;
      const limit = route.maxBodyBytes;
      const declared = Number(request.headers['content-length']);
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
          finish(tooLarge(route, CLOSE));
        } else chunks.push(chunk);
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
