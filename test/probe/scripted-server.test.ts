import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, test } from 'node:test';
import { ACTIVE_MODE_CLIENT_PORTS, partnerRuleSentence } from '../../runtime/src/probe/partner-rules.ts';
import { outcomes, probe, stepOf } from '../support/in-process-probe.ts';
import { startScriptedServer, type Script, type ScriptedServer } from '../support/scripted-ftp-server.ts';

/**
 * What the real bridge cannot be made to do on loopback: a server that accepts EPRT
 * and never connects back (a firewall dropping its connection to the client), or that
 * never saw the data connection the probe opened (something in between took it).
 */
async function withScript(script: (server: () => ScriptedServer) => Script, work: (server: ScriptedServer) => Promise<void>): Promise<void> {
  let server: ScriptedServer | undefined;
  server = await startScriptedServer(script(() => server!));
  try {
    await work(server);
  } finally {
    await server.stop();
  }
}

/** LIST in passive mode sends one line; after EPRT it does what `active` says. */
function listing(server: () => ScriptedServer, active: (control: Socket) => void): Script {
  let mode: 'passive' | 'active' = 'passive';
  return {
    EPRT: (control) => {
      mode = 'active';
      control.write('200 EPRT ok.\r\n');
    },
    LIST: (control) => {
      control.write('150 Here it comes.\r\n');
      if (mode === 'active') return active(control);
      server().dataConnections.at(-1)!.end('drwxr-xr-x 1 ftp ftp 0 Jan 01 00:00 inbox\r\n', () => control.write('226 Done.\r\n'));
    },
  };
}

describe('probe against scripted servers', () => {
  test('active mode: EPRT accepted, but the server never connects: a timeout, and the inbound rule for active mode', async () => {
    await withScript(
      (server) => listing(server, () => undefined),
      async (server) => {
        const run = await probe(['--active', '--timeout', '1', `ftp://127.0.0.1:${server.port}/`]);
        assert.equal(run.status, 1, run.text);
        assert.deepEqual(outcomes(run).slice(5), ['epsv skipped', 'pasv ok', 'pasv-connect ok', 'pasv-list ok', 'active ok', 'active-list failed']);
        const port = stepOf(run, 'active').details.port as number;
        const failure = run.report.failure!;
        assert.equal(failure.kind, 'timeout');
        assert.equal(failure.message, 'the server did not connect to this machine within 1 s (active mode)');
        assert.equal(
          failure.advice[0],
          partnerRuleSentence('active', {
            ports: ACTIVE_MODE_CLIENT_PORTS,
            bridge: 'the server (127.0.0.1, or the address it connects out from)',
            client: `this machine (127.0.0.1, port ${port} this time)`,
          }),
        );
        assert.match(failure.advice[0]!, /^TCP ports 1024-65535 must be open inbound to this machine \(127\.0\.0\.1, port \d+ this time\) from the server/);
        assert.equal(failure.advice[1], 'No answer at all usually means a firewall drops the packets: yours inbound, or one in front of the server outbound.');
      },
    );
  });

  test('active mode: the server answers 425, it could not connect: the same rule, at once', async () => {
    await withScript(
      (server) => listing(server, (control) => control.write('425 Failed to establish connection.\r\n')),
      async (server) => {
        const run = await probe(['--active', `ftp://127.0.0.1:${server.port}/`]);
        assert.equal(run.report.failure!.step, 'active-list');
        assert.equal(run.report.failure!.kind, 'unreachable');
        assert.equal(run.report.failure!.message, 'LIST: 425 Failed to establish connection.: the server could not connect to this machine (active mode)');
        assert.match(run.report.failure!.advice[0]!, /^TCP ports 1024-65535 must be open inbound to this machine/);
        assert.ok(stepOf(run, 'active-list').ms < 2500, 'the 425 ends the wait (5 s otherwise)');
      },
    );
  });

  test('passive: the data connection opened, but the server answers 425: something in between took it', async () => {
    await withScript(
      () => ({
        LIST: (control) => {
          control.write('150 Here it comes.\r\n');
          control.write("425 Can't open data connection.\r\n");
        },
      }),
      async (server) => {
        const run = await probe([`ftp://127.0.0.1:${server.port}/`]);
        assert.deepEqual(outcomes(run).slice(-3), ['pasv ok', 'pasv-connect ok', 'pasv-list failed']);
        assert.equal(run.report.failure!.kind, 'reply');
        assert.match(run.report.failure!.message, /^LIST: 425 Can't open data connection\.: the server did not get the data connection the probe opened, so something between accepted it instead/);
        assert.ok(stepOf(run, 'pasv-list').ms < 2500, 'the 425 ends the wait for data that will not come (5 s otherwise)');
      },
    );
  });
});
