import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';

/**
 * A few lines of FTP server whose answers a test writes: for the behaviours of
 * servers and networks the real bridge cannot be made to show on loopback (a server
 * that never connects back in active mode, a data connection something else took).
 * Unscripted commands get 502; USER, PASS, FEAT, PWD, PASV and QUIT have defaults.
 */
export interface ScriptedServer {
  readonly port: number;
  /** Data connections that reached the PASV listener. */
  readonly dataConnections: Socket[];
  stop(): Promise<void>;
}

export type Script = Record<string, (control: Socket, argument: string) => void>;

export async function startScriptedServer(script: Script): Promise<ScriptedServer> {
  const sockets = new Set<Socket>();
  const dataConnections: Socket[] = [];
  const keep = (socket: Socket): Socket => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
    return socket;
  };
  const data: Server = createServer((socket) => dataConnections.push(keep(socket)));
  data.listen(0, '127.0.0.1');
  await once(data, 'listening');
  const dataPort = (data.address() as { port: number }).port;
  const defaults: Script = {
    USER: (control) => control.write('331 Password.\r\n'),
    PASS: (control) => control.write('230 Logged in.\r\n'),
    FEAT: (control) => control.write('211-Features:\r\n PASV\r\n211 End\r\n'),
    PWD: (control) => control.write('257 "/"\r\n'),
    PASV: (control) => control.write(`227 Entering Passive Mode (127,0,0,1,${dataPort >> 8},${dataPort & 0xff}).\r\n`),
    QUIT: (control) => control.end('221 Bye.\r\n'),
  };
  const server = createServer((control) => {
    keep(control);
    control.write('220 scripted\r\n');
    let buffer = '';
    control.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      for (let end = buffer.indexOf('\r\n'); end !== -1; end = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const [verb = '', ...rest] = line.split(' ');
        const handler = script[verb.toUpperCase()] ?? defaults[verb.toUpperCase()];
        if (handler) handler(control, rest.join(' '));
        else control.write(`502 ${verb} not scripted.\r\n`);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    dataConnections,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await Promise.all([new Promise((resolve) => server.close(resolve)), new Promise((resolve) => data.close(resolve))]);
    },
  };
}
