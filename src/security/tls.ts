/**
 * TLS for the server listen() starts: your certificate and key (PEM), or a development certificate generated at
 * start with `selfsigned` (localhost, 127.0.0.1 and ::1; 30 days) whose SHA-256 fingerprint is printed so a
 * client can pin or check it. HTTPS and WSS then share the port like HTTP and WS do.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';

import { generate } from 'selfsigned';

import { RemoteMcpOptionError } from '../errors.js';

export type TlsOptions = { cert: string | Buffer; key: string | Buffer } | { selfSigned: true };

export interface TlsMaterial {
  cert: string | Buffer;
  key: string | Buffer;
  /** SHA-256 fingerprint (colon-separated hex), as `openssl x509 -fingerprint -sha256` prints it. */
  fingerprint256: string;
  /** The generated certificate (self-signed only), for clients to trust. */
  certPem?: string;
}

const SELF_SIGNED_DAYS = 30;

function fail(name: string, expected: string, received: string): never {
  throw new RemoteMcpOptionError(`remote-mcp: option \`tls${name}\` must be ${expected}; received ${received}.`);
}

/** Checks the option and loads or generates the certificate. */
export async function tlsMaterial(options: TlsOptions): Promise<TlsMaterial> {
  if (options === null || typeof options !== 'object')
    fail('', '{ cert, key } (PEM) or { selfSigned: true }', String(options));
  if ('selfSigned' in options) {
    if (options.selfSigned !== true) fail('.selfSigned', 'true', JSON.stringify(options.selfSigned));
    const now = new Date();
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notBeforeDate: new Date(now.getTime() - 60_000),
      notAfterDate: new Date(now.getTime() + SELF_SIGNED_DAYS * 86_400_000),
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'localhost' },
            { type: 7, ip: '127.0.0.1' },
            { type: 7, ip: '::1' },
          ],
        },
      ],
    });
    return {
      cert: pems.cert,
      key: pems.private,
      fingerprint256: new X509Certificate(pems.cert).fingerprint256,
      certPem: pems.cert,
    };
  }
  const { cert, key } = options as { cert?: unknown; key?: unknown };
  if (cert === undefined || key === undefined)
    fail(cert === undefined ? '.cert' : '.key', 'given together with the other (PEM text)', 'only one of cert and key');
  if (typeof cert !== 'string' && !Buffer.isBuffer(cert)) fail('.cert', 'PEM text (string or Buffer)', typeof cert);
  if (typeof key !== 'string' && !Buffer.isBuffer(key)) fail('.key', 'PEM text (string or Buffer)', typeof key);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert as string | Buffer);
  } catch {
    fail('.cert', 'a PEM certificate', 'text that is not one');
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key as string | Buffer);
  } catch {
    fail('.key', 'a PEM private key', 'text that is not one (or is encrypted)');
  }
  if (!certificate.checkPrivateKey(privateKey))
    fail('.key', 'the private key of tls.cert', 'a key that does not match the certificate');
  return { cert: cert as string | Buffer, key: key as string | Buffer, fingerprint256: certificate.fingerprint256 };
}
