import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generate } from 'selfsigned';

const DAY_MS = 24 * 3600 * 1000;

/**
 * A self-signed certificate with the names and validity a test needs (expired, for
 * another host, about to expire), written as PEM files the bridge or vsftpd can load.
 */
export async function writeTestCertificate(options: {
  readonly dir: string;
  readonly name: string;
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  /** Days from now; negative for the past. */
  readonly validFromDays?: number;
  readonly validToDays?: number;
}): Promise<{ certFile: string; keyFile: string }> {
  const dnsNames = options.dnsNames ?? ['localhost'];
  const ipAddresses = options.ipAddresses ?? ['127.0.0.1'];
  const pems = await generate([{ name: 'commonName', value: dnsNames[0] ?? 'test' }], {
    keyType: 'rsa',
    keySize: 2048,
    notBeforeDate: new Date(Date.now() + (options.validFromDays ?? -1) * DAY_MS),
    notAfterDate: new Date(Date.now() + (options.validToDays ?? 30) * DAY_MS),
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [...dnsNames.map((value) => ({ type: 2 as const, value })), ...ipAddresses.map((ip) => ({ type: 7 as const, ip }))],
      },
    ],
  });
  const certFile = join(options.dir, `${options.name}.cert.pem`);
  const keyFile = join(options.dir, `${options.name}.key.pem`);
  await writeFile(certFile, pems.cert);
  await writeFile(keyFile, pems.private);
  return { certFile, keyFile };
}
