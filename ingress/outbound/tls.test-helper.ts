// A certificate authority of the tests' own and https servers on loopback that present its
// certificates: stand-ins for the hosts of SNS, PayPal and OIDC issuers. Nothing here is reachable
// from production code; the ingress trusts this CA only when a test passes it as `testing`.
import { createPrivateKey, type KeyObject, webcrypto } from 'node:crypto';
import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as never);
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const RSA = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
};
const DAY = 86_400_000;

export interface Issued {
  certPem: string;
  keyPem: string;
  key: KeyObject;
}

async function exportKey(keys: CryptoKeyPair): Promise<{ keyPem: string; key: KeyObject }> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as webcrypto.CryptoKey));
  const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  return { key, keyPem: key.export({ format: 'pem', type: 'pkcs8' }).toString() };
}

export class TestCa {
  private constructor(
    readonly name: string,
    readonly cert: x509.X509Certificate,
    private readonly keys: CryptoKeyPair,
  ) {}

  get pem(): string {
    return this.cert.toString('pem');
  }

  static async create(name = 'hookgate test root'): Promise<TestCa> {
    const keys = (await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify'])) as CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      name: `CN=${name}`,
      keys,
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + 3650 * DAY),
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      ],
    });
    return new TestCa(name, cert, keys);
  }

  private async sign(
    subject: string,
    keys: CryptoKeyPair,
    extensions: x509.Extension[],
    notBefore = new Date(Date.now() - DAY),
    notAfter = new Date(Date.now() + 365 * DAY),
  ): Promise<x509.X509Certificate> {
    return x509.X509CertificateGenerator.create({
      subject: `CN=${subject}`,
      issuer: this.cert.subject,
      publicKey: keys.publicKey,
      signingKey: this.keys.privateKey,
      notBefore,
      notAfter,
      extensions,
    });
  }

  /** An intermediate CA signed by this one. */
  async intermediate(name: string): Promise<TestCa> {
    const keys = (await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify'])) as CryptoKeyPair;
    const cert = await this.sign(name, keys, [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
    ]);
    return new TestCa(name, cert, keys);
  }

  /** A leaf certificate for `cn` (also its DNS name) and its RSA key. */
  async issue(
    cn: string,
    opts: { dns?: string[]; notBefore?: Date; notAfter?: Date; caIssuers?: string } = {},
  ): Promise<Issued> {
    const keys = (await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify'])) as CryptoKeyPair;
    const cert = await this.sign(
      cn,
      keys,
      [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment),
        new x509.SubjectAlternativeNameExtension((opts.dns ?? [cn]).map((value) => ({ type: 'dns', value }))),
        ...(opts.caIssuers
          ? [
              new x509.AuthorityInfoAccessExtension({
                caIssuers: new x509.GeneralName('url', opts.caIssuers),
              }),
            ]
          : []),
      ],
      opts.notBefore,
      opts.notAfter,
    );
    return { certPem: cert.toString('pem'), ...(await exportKey(keys)) };
  }
}

export interface TestServer {
  port: number;
  /** Paths requested, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** Starts `server` on 127.0.0.1 (a free port), recording each path `handler` is asked for. */
async function listen(
  make: (listener: (req: IncomingMessage, res: ServerResponse) => void) => HttpServer,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<TestServer> {
  const requests: string[] = [];
  const server = make((req, res) => {
    requests.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** A plain http server on 127.0.0.1 (a CA's AIA host serves issuer certificates so). */
export function serveHttp(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<TestServer> {
  return listen(createHttpServer, handler);
}

/** An https server on 127.0.0.1 presenting a certificate of `ca` for `hosts`. */
export async function serveHttps(
  ca: TestCa,
  hosts: string[],
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<TestServer> {
  const leaf = await ca.issue(hosts[0]!, { dns: hosts });
  const tls = { cert: `${leaf.certPem}\n${ca.pem}`, key: leaf.keyPem };
  return listen((listener) => createServer(tls, listener), handler);
}

/** A sender's signing certificate and the https stand-in that publishes it, as SNS and PayPal do. */
export interface CertificateHost {
  ca: TestCa;
  intermediate: TestCa;
  leaf: Issued;
  server: TestServer;
}

/**
 * Issues a signing certificate for `subject` under an intermediate (of a new CA unless given) and
 * serves it, with the intermediate, as one PEM chain at any path of `host`; `other` answers the
 * requests it takes (returns true for).
 */
export async function certificateHost(
  host: string,
  subject: string,
  o: {
    under?: { ca: TestCa; intermediate: TestCa };
    other?: (req: IncomingMessage, res: ServerResponse) => boolean;
  } = {},
): Promise<CertificateHost> {
  const ca = o.under?.ca ?? (await TestCa.create());
  const intermediate = o.under?.intermediate ?? (await ca.intermediate(`Test intermediate for ${host}`));
  const leaf = await intermediate.issue(subject);
  const chain = `${leaf.certPem}\n${intermediate.pem}`;
  const server = await serveHttps(ca, [host], (req, res) => {
    if (!o.other?.(req, res)) res.end(chain);
  });
  return { ca, intermediate, leaf, server };
}

/** SNS's answer to the GET of a SubscribeURL, for a stand-in's `other`. */
export function confirmsSnsSubscriptions(req: IncomingMessage, res: ServerResponse): boolean {
  if (!req.url?.startsWith('/?Action=ConfirmSubscription')) return false;
  res.end('<ConfirmSubscriptionResponse><ConfirmSubscriptionResult/></ConfirmSubscriptionResponse>');
  return true;
}
