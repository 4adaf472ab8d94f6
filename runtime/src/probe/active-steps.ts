import { once } from 'node:events';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import { describeReply, type FtpControl } from './ftp-control.ts';
import { ACTIVE_MODE_CLIENT_PORTS } from './partner-rules.ts';
import { ProbeError, seconds } from './probe-error.ts';
import { NOT_OFFERED, type ProbeSession } from './probe-session.ts';
import { formatHostPort } from './tcp-connect.ts';

/** --active: EPRT (or PORT) to a listener of the probe, then a LIST the server connects out for. */
export async function activeSteps(probe: ProbeSession, control: FtpControl): Promise<void> {
  const local = control.socket.localAddress ?? '127.0.0.1';
  const listener = await probe.step('active', async (step) => {
    step.advice.push(
      "Active mode is off on the server, or not for this client: use passive mode (most clients' default). ftp-s3-bridge allows it with FTP_ACTIVE_MODE=on (bridge:activeMode), and only towards the control connection's own address.",
    );
    const server = createServer();
    probe.trackServer(server);
    server.listen(0, local);
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    let reply = await control.command(`EPRT |${isIPv6(local) ? 2 : 1}|${local}|${port}|`);
    if (NOT_OFFERED.has(reply.code) && !isIPv6(local)) {
      const first = reply;
      reply = await control.command(`PORT ${local.split('.').join(',')},${port >> 8},${port & 0xff}`);
      if (reply.code !== 200) throw new ProbeError('reply', `the server refuses active mode: EPRT: ${describeReply(first)}; PORT: ${describeReply(reply)}`);
    }
    if (reply.code !== 200) throw new ProbeError('reply', `the server refuses active mode: ${describeReply(reply)}`);
    return { summary: `listening on ${formatHostPort(local, port)}; ${describeReply(reply)}`, details: { address: local, port }, value: { server, port } };
  });
  await probe.step('active-list', async (step) => {
    step.rule = {
      kind: 'active',
      ports: ACTIVE_MODE_CLIENT_PORTS,
      bridge: `the server (${probe.controlAddress}, or the address it connects out from)`,
      client: `this machine (${local}, port ${listener.port} this time)`,
    };
    const arrived = nextConnection(listener.server, probe.options.timeoutMs);
    arrived.catch(() => undefined);
    const result = await probe.transfer(control, 'LIST', arrived, { active: true });
    return { summary: `the server connected to ${formatHostPort(local, listener.port)}; ${result.bytes} bytes${result.tls}; ${describeReply(result.final)}`, value: undefined };
  });
}

/** The server's active-mode connection, or a timeout that names the firewall rule. */
async function nextConnection(server: Server, timeoutMs: number): Promise<Socket> {
  return await new Promise<Socket>((resolve, reject) => {
    const timer = setTimeout(() => {
      server.off('connection', onConnection);
      reject(new ProbeError('timeout', `the server did not connect to this machine within ${seconds(timeoutMs)} (active mode)`));
    }, timeoutMs);
    const onConnection = (socket: Socket): void => {
      clearTimeout(timer);
      resolve(socket);
    };
    server.once('connection', onConnection);
  });
}
