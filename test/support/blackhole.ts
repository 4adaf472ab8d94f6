import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

/**
 * Listening ports that never answer a new connection: what a firewall that drops
 * packets looks like to a client, made on loopback without touching the firewall.
 *
 * A child process listens with a backlog of one and then blocks its event loop, so
 * it never accepts. Two filler connections fill the accept queue; after that the
 * kernel drops every SYN to the port, and a connect times out as it would against a
 * dropping firewall (a closed port would answer with an RST instead).
 */
export interface Blackhole {
  readonly host: string;
  readonly ports: readonly number[];
  stop(): Promise<void>;
}

const CHILD = `
const net = require('node:net');
const fs = require('node:fs');
const [host, ...wanted] = process.argv.slice(1);
const servers = (wanted.length > 0 ? wanted : ['0']).map((port) => {
  const server = net.createServer();
  server.listen({ host, port: Number(port), backlog: 1, exclusive: true });
  return server;
});
let listening = 0;
for (const server of servers) {
  server.on('error', (error) => { fs.writeSync(2, String(error) + '\\n'); process.exit(1); });
  server.on('listening', () => {
    listening += 1;
    if (listening < servers.length) return;
    fs.writeSync(1, servers.map((s) => s.address().port).join(',') + '\\n');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
  });
}
`;

export async function startBlackhole(options: { readonly host: string; readonly ports?: readonly number[] }): Promise<Blackhole> {
  const child: ChildProcess = spawn(process.execPath, ['-e', CHILD, options.host, ...(options.ports ?? []).map(String)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(text.trim());
    });
    child.once('exit', (code) => reject(new Error(`blackhole exited with ${code}: ${stderr}`)));
  });
  const ports = line.split(',').map(Number);
  const fillers: Socket[] = [];
  for (const port of ports) {
    for (let i = 0; i < 2; i++) {
      const socket = connect({ host: options.host, port });
      socket.on('error', () => undefined);
      fillers.push(socket);
      await once(socket, 'connect');
    }
  }
  return {
    host: options.host,
    ports,
    async stop() {
      for (const socket of fillers) socket.destroy();
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    },
  };
}
