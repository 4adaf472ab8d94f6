import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';

/**
 * TLS 1.2 offers only AEAD suites with ECDHE (Mozilla's intermediate profile without
 * DHE): a client that offers nothing else but CBC suites gets no handshake. The test
 * certificate is ECDSA, so the ECDSA suites are the ones a handshake can pick.
 */
const AEAD = ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305'];
const CBC = ['ECDHE-ECDSA-AES128-SHA256', 'ECDHE-ECDSA-AES256-SHA384', 'ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA'];

describe('TLS 1.2 cipher suites', () => {
  let env: TestBridge;
  before(async () => {
    env = await startTestBridge({ storage: 'memory' });
  });
  after(() => env.stop());

  /** The suite a TLS 1.2 handshake on the implicit port agreed on, or the error. */
  async function handshake(cipher: string): Promise<string> {
    const socket = tlsConnect({ host: '127.0.0.1', port: env.implicitPort, rejectUnauthorized: false, maxVersion: 'TLSv1.2', ciphers: cipher });
    try {
      await Promise.race([once(socket, 'secureConnect'), once(socket, 'error').then(([error]) => Promise.reject(error as Error))]);
      return socket.getCipher().name;
    } catch (error) {
      return `refused: ${(error as Error).message}`;
    } finally {
      socket.destroy();
    }
  }

  for (const cipher of AEAD) {
    test(`${cipher} is offered`, async () => {
      assert.equal(await handshake(cipher), cipher);
    });
  }

  test('no CBC suite is offered', async () => {
    for (const cipher of CBC) assert.match(await handshake(cipher), /^refused: .*handshake failure/, cipher);
  });
});
