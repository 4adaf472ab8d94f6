import { startInteropBridge } from './interop-harness.ts';

/**
 * Starts the test bridge (real fauxqs S3 behind it) and keeps it running, for
 * reproducing an interop failure by hand with a client's debug flag:
 *   npx node test/support/interop-serve.ts [VAR=value ...]
 * Prints the ports and the certificate path; Ctrl-C stops it. With LOG=1, prints
 * the bridge's JSON log lines as they come.
 */
const env = Object.fromEntries(process.argv.slice(2).map((arg) => arg.split(/=(.*)/s).slice(0, 2) as [string, string]));
const bridge = await startInteropBridge({ env, passivePorts: 20 });
console.log(JSON.stringify({ port: bridge.port, implicitPort: bridge.implicitPort, cert: `${bridge.dir}/cert.pem`, user: 'alice', password: 'wonderland', bucket: bridge.s3.bucket, s3: bridge.s3.endpoint }));
let shown = 0;
const timer = setInterval(() => {
  if (process.env.LOG === '1') for (; shown < bridge.logs.length; shown++) console.log(JSON.stringify(bridge.logs[shown]));
}, 200);
const stop = async (): Promise<void> => {
  clearInterval(timer);
  await bridge.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
