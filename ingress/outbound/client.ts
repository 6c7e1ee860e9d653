import { lookup } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import type { LookupFunction } from 'node:net';
import { isPublicAddress } from './address.ts';
import { allowedUrl, type HostRule } from './url.ts';

/**
 * Why an outbound call failed. None of them is the sender's proof failing, so the ingress answers
 * 503 with Retry-After (the sender retries later), never 401 and never 202. A URL the host rule
 * refuses is not one of these: that is `UrlRefused`, a verification failure.
 */
export type OutboundFailure =
  | 'unreachable'
  | 'timeout'
  | 'blocked_address'
  | 'too_large'
  | 'bad_status'
  | 'busy';

export class OutboundError extends Error {
  constructor(
    readonly kind: OutboundFailure,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Test-only: trust anchors that replace the system's, and host names answered by a loopback port
 * (the address check is skipped for them alone). Only code can pass it (`main`'s third argument,
 * used by the test harness): no flag or environment variable of the ingress can turn it on.
 */
export interface OutboundTesting {
  ca: string[];
  hosts: Record<string, number>;
}

export interface OutboundOptions {
  /** The whole call: resolve, connect, TLS, response (default 5 s). */
  timeoutMs?: number;
  /** Response bytes (default 64 KiB; a certificate chain or a JWKS is a few KiB). */
  maxBytes?: number;
  /** Calls in flight at once; more fail with `busy` at once rather than queue (default 16). */
  maxConcurrent?: number;
  resolve?: (host: string) => Promise<{ address: string; family: number }[]>;
  testing?: OutboundTesting;
}

const defaultResolve = (host: string) => lookup(host, { all: true, verbatim: true });

/**
 * The one HTTP client for every call a sender's data can steer (certificates, SubscribeURL,
 * JWKS, OIDC discovery): https only, hosts from the provider's rule only, the name resolved once
 * and every address checked, the connection made to the address that was checked (no second
 * lookup a rebinding DNS answer could change), no redirects, a deadline and a size cap.
 */
export class Outbound {
  private inFlight = 0;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly maxConcurrent: number;
  private readonly resolve: NonNullable<OutboundOptions['resolve']>;

  constructor(private readonly options: OutboundOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.maxBytes = options.maxBytes ?? 64 * 1024;
    this.maxConcurrent = options.maxConcurrent ?? 16;
    this.resolve = options.resolve ?? defaultResolve;
  }

  /** GETs `text` if `rule` allows it; throws UrlRefused (the URL) or OutboundError (the call). */
  async get(text: string, rule: HostRule, maxBytes = this.maxBytes): Promise<Buffer> {
    const url = allowedUrl(text, rule);
    if (this.inFlight >= this.maxConcurrent)
      throw new OutboundError('busy', 'too many outbound calls in flight');
    this.inFlight++;
    const deadline = AbortSignal.timeout(this.timeoutMs);
    try {
      const target = await this.target(url.hostname, url.protocol === 'http:' ? 80 : 443, deadline);
      return await this.fetch(url, target, deadline, maxBytes);
    } catch (err) {
      if (err instanceof OutboundError) throw err;
      if (deadline.aborted)
        throw new OutboundError('timeout', `${rule.name}: no answer within ${this.timeoutMs} ms`);
      throw new OutboundError(
        'unreachable',
        `${rule.name}: ${(err as NodeJS.ErrnoException).code ?? 'failed'}`,
      );
    } finally {
      this.inFlight--;
    }
  }

  private async target(
    host: string,
    port: number,
    deadline: AbortSignal,
  ): Promise<{ address: string; family: number; port: number }> {
    const testPort = this.options.testing?.hosts[host];
    if (testPort !== undefined) return { address: '127.0.0.1', family: 4, port: testPort };
    const answer = await Promise.race([
      this.resolve(host),
      new Promise<never>((_, reject) => deadline.addEventListener('abort', () => reject(deadline.reason))),
    ]);
    // Every answer must be public: a name that resolves to a private address anywhere is refused.
    if (answer.length === 0 || !answer.every((a) => isPublicAddress(a.address)))
      throw new OutboundError(
        'blocked_address',
        `${host} resolves to an address outbound calls may not reach`,
      );
    return { ...answer[0]!, port };
  }

  private fetch(
    url: URL,
    target: { address: string; family: number; port: number },
    signal: AbortSignal,
    maxBytes: number,
  ): Promise<Buffer> {
    const pinned: LookupFunction = (_host, opts, done) => {
      type All = (err: null, addresses: { address: string; family: number }[]) => void;
      if ((opts as { all?: boolean }).all) (done as unknown as All)(null, [target]);
      else done(null, target.address, target.family);
    };
    return new Promise((resolve, reject) => {
      const send = url.protocol === 'http:' ? httpRequest : request;
      const req = send(
        {
          host: url.hostname,
          port: target.port,
          path: `${url.pathname}${url.search}`,
          method: 'GET',
          lookup: pinned,
          agent: false,
          signal,
          headers: { 'user-agent': 'hookgate-ingress', accept: '*/*' },
          ...(this.options.testing ? { ca: this.options.testing.ca } : {}),
        },
        (res) => {
          // No redirects: every provider serves these URLs directly.
          if (res.statusCode !== 200) {
            res.destroy();
            return reject(new OutboundError('bad_status', `${url.hostname} answered ${res.statusCode}`));
          }
          if (Number(res.headers['content-length'] ?? 0) > maxBytes) {
            res.destroy();
            return reject(new OutboundError('too_large', `${url.hostname}: answer over ${maxBytes} bytes`));
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBytes) {
              res.destroy();
              reject(new OutboundError('too_large', `${url.hostname}: answer over ${maxBytes} bytes`));
            } else chunks.push(chunk);
          });
          res.on('end', () => resolve(Buffer.concat(chunks)));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
  }
}
