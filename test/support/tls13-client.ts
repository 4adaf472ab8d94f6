import { createCipheriv, type CipherGCM } from 'node:crypto';
import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { recordNonce, trafficKeys, type RecordKeys } from '../../runtime/src/protocol/tls13-close-notify.ts';

/**
 * A TLS 1.3 data connection whose test can end it the way Java does (a user_canceled
 * alert, then close_notify, then FIN, in one segment) or any other way, by writing
 * protected records of its own under the client's traffic keys (from its key log).
 */
export interface Tls13DataConnection {
  readonly tls: TLSSocket;
  readonly tcp: Socket;
  /** Writes `data` through TLS and waits until it is on the TCP socket. */
  write(data: Buffer): Promise<void>;
  /** Ends the TCP stream with these protected records after what was written (alert level, description pairs). */
  endWithAlerts(alerts: ReadonlyArray<readonly [level: number, description: number]>): void;
}

const ALERT = 21;
const APPLICATION_DATA = 23;
export const USER_CANCELED = 90;
export const CLOSE_NOTIFY = 0;
export const WARNING = 1;

export async function openTls13Data(port: number, session: Buffer | undefined): Promise<Tls13DataConnection> {
  const tcp = netConnect({ host: '127.0.0.1', port });
  await once(tcp, 'connect');
  tcp.on('error', () => undefined);
  let protectedRecords = 0;
  const countRecords = recordCounter(() => (protectedRecords += 1));
  // TLS over a relay the test owns: it sees every record the client writes, and
  // destroying the TLS socket leaves the TCP socket to the test.
  const wire = new Duplex({
    read() {
      tcp.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      countRecords(chunk);
      tcp.write(chunk, callback);
    },
    destroy(error, callback) {
      callback(error);
    },
  });
  tcp.on('data', (chunk: Buffer) => {
    if (!wire.push(chunk)) tcp.pause();
  });
  let secret: Buffer | undefined;
  const tls = tlsConnect({
    socket: wire,
    host: '127.0.0.1',
    rejectUnauthorized: false,
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    ...(session ? { session } : {}),
  });
  tls.on('keylog', (line: Buffer) => {
    const [label, , hex] = line.toString('latin1').trim().split(' ');
    if (label === 'CLIENT_TRAFFIC_SECRET_0' && hex !== undefined) secret = Buffer.from(hex, 'hex');
  });
  tls.on('error', () => undefined);
  await once(tls, 'secureConnect');
  const keys = trafficKeys(tls.getCipher().standardName, secret!);
  if (keys === undefined) throw new Error(`no keys for ${tls.getCipher().standardName}`);
  return {
    tls,
    tcp,
    write: (data) => new Promise<void>((resolve, reject) => tls.write(data, (error) => (error ? reject(error) : resolve()))),
    endWithAlerts(alerts) {
      // The client's first protected record is its Finished (handshake keys): application records count from 0 after it.
      const first = protectedRecords - 1;
      const records = alerts.map(([level, description], index) => sealRecord(keys, first + index, ALERT, Buffer.from([level, description])));
      tls.destroy();
      tcp.end(Buffer.concat(records));
    },
  };
}

/** A TLS 1.3 protected record (RFC 8446 5.2). */
function sealRecord(keys: RecordKeys, sequence: number, type: number, content: Buffer): Buffer {
  const inner = Buffer.concat([content, Buffer.from([type])]);
  const length = inner.length + 16;
  const header = Buffer.from([APPLICATION_DATA, 3, 3, length >> 8, length & 0xff]);
  const nonce = recordNonce(keys.iv, sequence);
  const options = { authTagLength: 16 };
  const cipher = (
    keys.aead === 'chacha20-poly1305' ? createCipheriv(keys.aead, keys.key, nonce, options) : createCipheriv(keys.aead, keys.key, nonce, options)
  ) as CipherGCM;
  cipher.setAAD(header);
  const body = Buffer.concat([cipher.update(inner), cipher.final()]);
  return Buffer.concat([header, body, cipher.getAuthTag()]);
}

/** Calls `onProtected` for each complete application_data record in the bytes fed to it. */
function recordCounter(onProtected: () => void): (chunk: Buffer) => void {
  const header: number[] = [];
  let remaining = 0;
  return (chunk) => {
    for (let offset = 0; offset < chunk.length; ) {
      if (remaining === 0 && header.length < 5) {
        header.push(chunk[offset++]!);
        if (header.length === 5) {
          remaining = (header[3]! << 8) | header[4]!;
          if (remaining === 0) done();
        }
        continue;
      }
      const taken = Math.min(remaining, chunk.length - offset);
      offset += taken;
      remaining -= taken;
      if (remaining === 0) done();
    }
  };
  function done(): void {
    if (header[0] === APPLICATION_DATA) onProtected();
    header.length = 0;
  }
}
