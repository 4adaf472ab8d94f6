import { randomBytes } from 'node:crypto';
import { describeReply, unexpectedReply, type FtpControl } from './ftp-control.ts';
import { openPassive } from './passive-steps.ts';
import { ProbeError } from './probe-error.ts';
import { NOT_OFFERED, type ProbeSession } from './probe-session.ts';

const PROBE_FILE_BYTES = 4096;

/** --write: TYPE I, STOR of a small random file, SIZE, RETR compared byte for byte, DELE. */
export async function writeSteps(probe: ProbeSession, control: FtpControl): Promise<void> {
  const name = `ftp-s3-bridge-probe-${randomBytes(6).toString('hex')}.bin`;
  const payload = randomBytes(PROBE_FILE_BYTES);
  await probe.step('type', async () => {
    const reply = await probe.expect(control, 'TYPE I', [200]);
    return { summary: describeReply(reply), value: undefined };
  });
  await probe.step('stor', async (step) => {
    const data = await openPassive(probe, control, step);
    probe.uploaded = name;
    const result = await probe.transfer(control, `STOR ${name}`, data, { upload: payload });
    return { summary: `${payload.length} bytes to ${name}${result.tls}; ${describeReply(result.final)}`, details: { file: name, bytes: payload.length }, value: undefined };
  });
  await probe.step('size', async () => {
    const reply = await control.command(`SIZE ${name}`);
    if (NOT_OFFERED.has(reply.code)) return { summary: `not offered: ${describeReply(reply)}`, value: undefined, outcome: 'skipped' };
    if (reply.code !== 213) throw unexpectedReply('SIZE', reply);
    const size = Number(reply.text.trim());
    if (size !== payload.length) throw new ProbeError('data-mismatch', `SIZE says ${reply.text.trim()} bytes, ${payload.length} were uploaded`);
    return { summary: `${size} bytes, as uploaded`, value: undefined };
  });
  await probe.step('retr', async (step) => {
    const data = await openPassive(probe, control, step);
    const result = await probe.transfer(control, `RETR ${name}`, data, {});
    if (!result.data.equals(payload)) {
      throw new ProbeError('data-mismatch', `downloaded ${result.bytes} bytes that differ from the ${payload.length} uploaded (first difference at byte ${firstDifference(result.data, payload)})`);
    }
    return { summary: `${result.bytes} bytes${result.tls}, identical to the upload; ${describeReply(result.final)}`, value: undefined };
  });
  await probe.step('dele', async () => {
    const reply = await probe.expect(control, `DELE ${name}`, [250]);
    probe.uploaded = undefined;
    return { summary: describeReply(reply), value: undefined };
  });
}

/** After a failure, the file --write uploaded should not stay behind. */
export async function removeProbeFile(probe: ProbeSession): Promise<void> {
  const name = probe.uploaded;
  const control = probe.control;
  if (!name || !control || !probe.recorder.failure) return;
  let outcome: string;
  try {
    const reply = await control.command(`DELE ${name}`);
    outcome = reply.code === 250 ? `The probe deleted its file ${name}.` : `The probe could not delete its file ${name} (${describeReply(reply)}): remove it by hand.`;
  } catch {
    outcome = `The probe could not delete its file ${name}: remove it by hand.`;
  }
  probe.recorder.addAdvice(outcome);
}

function firstDifference(a: Buffer, b: Buffer): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i;
  return length;
}
