import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { activeSteps } from './active-steps.ts';
import {
  authTlsStep,
  bannerStep,
  certificateStep,
  connectStep,
  featStep,
  folderSteps,
  implicitTlsStep,
  loginStep,
  protectionStep,
  quitStep,
} from './connection-steps.ts';
import { FtpControl } from './ftp-control.ts';
import { passiveSteps } from './passive-steps.ts';
import type { ProbeReport } from './probe-report.ts';
import { ProbeSession, type ProbeOptions } from './probe-session.ts';
import { StopProbe } from './probe-steps.ts';
import { removeProbeFile, writeSteps } from './write-steps.ts';

/**
 * Walks the steps an FTP client goes through, stopping at the first that fails. The
 * step groups: the control connection (connection-steps.ts), passive data connections
 * (passive-steps.ts), --write (write-steps.ts), --active (active-steps.ts).
 */
export async function runProbe(options: ProbeOptions): Promise<ProbeReport> {
  const probe = new ProbeSession(options);
  const started = performance.now();
  try {
    await walk(probe);
  } catch (error) {
    if (!(error instanceof StopProbe)) throw error;
    await removeProbeFile(probe);
  } finally {
    await probe.closeAll();
  }
  const { target, timeoutMs } = options;
  return {
    tool: 'ftp-s3-bridge probe',
    target: { url: target.display, host: target.host, port: target.port, security: target.security, username: target.username },
    timeoutMs,
    ok: probe.recorder.failure === undefined,
    ms: Math.round(performance.now() - started),
    steps: probe.recorder.steps,
    tls: probe.tls,
    failure: probe.recorder.failure ?? null,
  };
}

async function walk(probe: ProbeSession): Promise<void> {
  const { target, write, active } = probe.options;
  let socket: Socket = await connectStep(probe);
  if (target.security === 'implicit-tls') {
    socket = await implicitTlsStep(probe, socket);
    await certificateStep(probe, socket as TLSSocket);
  }
  const control = new FtpControl(socket, probe.options.timeoutMs);
  probe.control = control;
  await bannerStep(probe, control);
  if (target.security === 'explicit-tls') {
    const secure = await authTlsStep(probe, control);
    await certificateStep(probe, secure);
  }
  await featStep(probe, control);
  await loginStep(probe, control);
  if (target.security !== 'plain') await protectionStep(probe, control);
  await folderSteps(probe, control);
  await passiveSteps(probe, control);
  if (write) await writeSteps(probe, control);
  if (active) await activeSteps(probe, control);
  await quitStep(probe, control);
}
