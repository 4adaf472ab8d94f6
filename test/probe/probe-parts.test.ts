import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { addressScope } from '../../runtime/src/probe/address-scope.ts';
import { partnerRuleSentence } from '../../runtime/src/probe/partner-rules.ts';
import { parseEpsvReply, parsePasvReply } from '../../runtime/src/probe/passive-reply.ts';
import { parseProbeTarget, TargetError } from '../../runtime/src/probe/probe-target.ts';
import { outcomes, probe } from '../support/in-process-probe.ts';

describe('probe URLs', () => {
  const cases: Array<[string, boolean, Partial<ReturnType<typeof parseProbeTarget>>]> = [
    ['ftp://ftp.example.com', false, { security: 'plain', host: 'ftp.example.com', port: 21, username: 'anonymous', password: undefined, path: '', display: 'ftp://ftp.example.com:21/' }],
    ['ftp://acme:s%40cret@203.0.113.10:2121/in%20box/', false, { username: 'acme', password: 's@cret', port: 2121, path: 'in box/', display: 'ftp://acme@203.0.113.10:2121/in%20box/' }],
    ['ftp://acme@ftp.example.com/', true, { security: 'explicit-tls', port: 21 }],
    ['ftpes://acme@ftp.example.com', false, { security: 'explicit-tls', port: 21, path: '' }],
    ['ftps://acme@ftp.example.com//srv/ftp', false, { security: 'implicit-tls', port: 990, path: '/srv/ftp' }],
    ['ftp://[::1]:2121/', false, { host: '::1', port: 2121, display: 'ftp://[::1]:2121/' }],
  ];
  for (const [url, explicitTls, expected] of cases) {
    test(`${url}${explicitTls ? ' --tls' : ''}`, () => {
      const target = parseProbeTarget(url, { explicitTls });
      for (const [key, value] of Object.entries(expected)) assert.deepEqual(target[key as keyof typeof target], value, key);
    });
  }

  test('what is not an FTP URL is a usage error that says why', () => {
    const bad: Array<[string, boolean, RegExp]> = [
      ['http://example.com/', false, /is not ftp:\/\/, ftpes:\/\/ or ftps:\/\//],
      ['ftp.example.com', false, /is not a URL/],
      ['ftps://example.com/', true, /--tls asks for explicit TLS/],
      ['ftp://example.com/?x=1', false, /query/],
      ['ftp://a%zz@example.com/', false, /percent-encoding/],
    ];
    for (const [url, explicitTls, message] of bad) assert.throws(() => parseProbeTarget(url, { explicitTls }), (error: Error) => error instanceof TargetError && message.test(error.message), url);
  });
});

describe('passive replies and addresses', () => {
  test('PASV: the six numbers anywhere in the text, parentheses or not', () => {
    assert.deepEqual(parsePasvReply('Entering Passive Mode (203,0,113,10,117,48).'), { host: '203.0.113.10', port: 30000 });
    assert.deepEqual(parsePasvReply('Entering Passive Mode 127,0,0,1,78,32'), { host: '127.0.0.1', port: 20000 });
    assert.throws(() => parsePasvReply('Entering Passive Mode (300,0,0,1,1,1)'), /without an address/);
    assert.throws(() => parsePasvReply('Entering Passive Mode (10,0,0,1,0,0)'), /port 0/);
  });

  test('EPSV: the port between the delimiters, whichever delimiter', () => {
    assert.equal(parseEpsvReply('Entering Extended Passive Mode (|||30001|)'), 30001);
    assert.equal(parseEpsvReply('Entering Extended Passive Mode (!!!6446!)'), 6446);
    assert.throws(() => parseEpsvReply('Entering Extended Passive Mode (|||70000|)'), /without a port/);
    assert.throws(() => parseEpsvReply('ok'), /without a port/);
  });

  test('address scopes: what a PASV address tells about who can reach it', () => {
    const cases: Array<[string, string]> = [
      ['127.0.0.2', 'loopback'],
      ['10.1.2.3', 'private'],
      ['172.31.0.5', 'private'],
      ['172.32.0.5', 'public'],
      ['192.168.1.1', 'private'],
      ['100.64.0.1', 'private'],
      ['169.254.169.254', 'link-local'],
      ['0.0.0.0', 'unspecified'],
      ['203.0.113.10', 'public'],
      ['::1', 'loopback'],
      ['fd00::1', 'private'],
      ['fe80::1', 'link-local'],
      ['::ffff:10.0.0.1', 'private'],
      ['2001:db8::1', 'public'],
    ];
    for (const [address, scope] of cases) assert.equal(addressScope(address), scope, address);
  });
});

describe('partner rule sentences', () => {
  test('one sentence per rule, as the probe prints it and the partner page lists it', () => {
    const bridge = '203.0.113.10';
    assert.equal(
      partnerRuleSentence('control', { ports: { from: 21, to: 21 }, bridge }),
      'TCP port 21 must be open outbound from your network to 203.0.113.10: the control connection: plain FTP, or explicit FTPS after AUTH TLS.',
    );
    assert.equal(
      partnerRuleSentence('implicit-tls', { ports: { from: 990, to: 990 }, bridge }),
      'TCP port 990 must be open outbound from your network to 203.0.113.10: implicit FTPS: TLS from the first byte.',
    );
    assert.equal(
      partnerRuleSentence('passive', { ports: { from: 30000, to: 30005 }, bridge }),
      'The passive range (TCP ports 30000-30005) must be open outbound from your network to 203.0.113.10: passive data connections (PASV/EPSV) for every listing, upload and download.',
    );
    assert.equal(
      partnerRuleSentence('active', { ports: { from: 1024, to: 65535 }, bridge, client: 'your FTP clients' }),
      'TCP ports 1024-65535 must be open inbound to your FTP clients from 203.0.113.10: active mode (PORT/EPRT): the server opens the data connection to your client.',
    );
  });
});

describe('servers that are not what the probe expects', () => {
  /** A one-shot TCP server on loopback that does `onConnection` to each client. */
  async function withServer(onConnection: (socket: Socket) => void, work: (port: number) => Promise<void>): Promise<void> {
    const sockets = new Set<Socket>();
    const server: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      onConnection(socket);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      await work((server.address() as { port: number }).port);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  test('a server that accepts and says nothing: no greeting, and neither FTP nor TLS', async () => {
    await withServer(
      () => undefined,
      async (port) => {
        const run = await probe(['--timeout', '0.5', `ftp://127.0.0.1:${port}/`]);
        assert.deepEqual(outcomes(run), ['connect ok', 'banner failed']);
        assert.equal(run.report.failure!.kind, 'timeout');
        assert.equal(run.report.failure!.message, 'greeting: no answer within 0.5 s: something accepts TCP connections on this port but does not speak FTP (nor TLS)');
      },
    );
  });

  test('an SSH server on the port: the greeting is quoted as not an FTP reply', async () => {
    await withServer(
      (socket) => socket.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'),
      async (port) => {
        const run = await probe([`ftp://127.0.0.1:${port}/`]);
        assert.equal(run.report.failure!.kind, 'protocol');
        assert.equal(run.report.failure!.message, 'not an FTP reply: "SSH-2.0-OpenSSH_9.2p1 Debian-2"');
      },
    );
  });

  test('multi-line replies split across packets, and a 421 greeting', async () => {
    await withServer(
      (socket) => {
        socket.write('220-Welcome\r\n220-to the');
        setTimeout(() => socket.write(' test\r\n220 server\r\n'), 20);
        socket.on('data', (chunk: Buffer) => {
          const line = chunk.toString();
          if (line.startsWith('FEAT')) socket.write('211-Features:\r\n EPSV\r\n PASV\r\n211 End\r\n');
          else if (line.startsWith('USER')) socket.end('421 Too many users, try later.\r\n');
        });
      },
      async (port) => {
        const run = await probe([`ftp://127.0.0.1:${port}/`]);
        assert.deepEqual(outcomes(run), ['connect ok', 'banner ok', 'feat ok', 'login failed']);
        assert.equal(run.report.steps[1]!.summary, '220 server');
        assert.deepEqual(run.report.steps[2]!.details.features, ['EPSV', 'PASV']);
        assert.equal(run.report.failure!.message, 'USER: unexpected reply 421 Too many users, try later.');
      },
    );
  });
});
