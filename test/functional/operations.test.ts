import assert from 'node:assert/strict';
import { GetObjectAttributesCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { crc32Base64 } from '../support/crc32-base64.ts';
import { startTestBridge, type TestBridge } from '../support/bridge.ts';
import { startFakeEventBridge, type FakeEventBridge } from '../support/eventbridge-server.ts';
import { RawFtp, listOver, readAll, uploadOver, writeAll } from '../support/raw-ftp.ts';

/**
 * What operations get from a running bridge: the embedded metric lines (docs/metrics.md),
 * the audit events with their activity types, and one EventBridge event per upload
 * (docs/audit-and-events.md), sent to a real PutEvents endpoint on loopback.
 */
describe('operations: metrics, audit events and upload events', () => {
  let env: TestBridge;
  let events: FakeEventBridge;
  let stopped = false;

  const waitFor = async <T>(what: string, probe: () => T | undefined): Promise<T> => {
    // Up to 30 s, as waitUntil: what is asserted is that it happens, not how fast.
    for (let i = 0; i < 1200; i++) {
      const value = probe();
      if (value !== undefined) return value;
      await delay(25);
    }
    assert.fail(`timed out waiting for ${what}`);
  };
  const eventsFor = (path: string) => events.events.filter((event) => event.detail['file-path'] === path);

  before(async () => {
    events = await startFakeEventBridge();
    env = await startTestBridge({
      env: { FTP_METRICS_NAMESPACE: 'FtpS3Bridge/Test', FTP_METRICS_SHARD: 'shard-1', FTP_METRICS_INTERVAL_SECONDS: '60', FTP_UPLOAD_EVENTS_BUS: 'default' },
      eventBridgeClient: events.client,
    });
  });
  after(async () => {
    if (!stopped) {
      await env.stop();
      await events.stop();
    }
  });

  test('an upload: OPEN and CLOSE audit events, and an "Upload Completed" event with partner, path, size and the CRC32 S3 keeps', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    await ftp.command('TYPE I', 200);
    const data = randomBytes(300_000);
    await uploadOver(ftp, 'STOR report.csv', data, false);
    await ftp.close();

    const open = env.logs.find((line) => line.event === 'transfer-open' && line.path === '/report.csv');
    assert.deepEqual([open?.activity, open?.command, open?.mode, open?.user, open?.clientAddress], ['OPEN', 'STOR', 'WRITE', 'alice', '127.0.0.1']);
    const close = env.logs.find((line) => line.event === 'transfer' && line.path === '/report.csv');
    assert.deepEqual([close?.activity, close?.mode, close?.bytesIn, close?.bytesOut], ['CLOSE', 'WRITE', data.length, 0]);

    const [event] = await waitFor('the upload event', () => (eventsFor('/report.csv').length > 0 ? eventsFor('/report.csv') : undefined));
    assert.equal(event!.source, 'ftp-s3-bridge');
    assert.equal(event!.detailType, 'FTPS Server File Upload Completed');
    assert.equal(event!.eventBusName, 'default');
    const detail = event!.detail;
    assert.deepEqual(
      [detail['status-code'], detail['username'], detail['file-size'], detail['command'], detail['client-ip'], detail['server-id']],
      ['COMPLETED', 'alice', data.length, 'STOR', '127.0.0.1', 'shard-1'],
    );
    assert.equal(detail['checksum-crc32'], crc32Base64(data));
    assert.ok(Date.parse(String(detail['end-timestamp'])) >= Date.parse(String(detail['start-timestamp'])));
    // The checksum is the one S3 keeps, where the store keeps one (RGW, AWS).
    const attributes = await env.s3.client
      .send(new GetObjectAttributesCommand({ Bucket: env.s3.bucket, Key: 'partners/alice/report.csv', ObjectAttributes: ['Checksum'] }))
      .catch(() => undefined);
    const stored = attributes?.Checksum?.ChecksumCRC32;
    if (stored !== undefined && attributes?.ObjectParts === undefined) assert.equal(stored, detail['checksum-crc32']);
  });

  test('the CRC32 of an upload event covers the whole file: several parts, an append read back; none where S3 copied the start', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    await ftp.command('TYPE I', 200);
    const large = randomBytes(17 * 1024 * 1024 + 5);
    const small = randomBytes(1000);
    const more = randomBytes(500);
    await uploadOver(ftp, 'STOR parts.bin', large, false);
    await uploadOver(ftp, 'APPE parts.bin', more, false);
    await uploadOver(ftp, 'STOR small.bin', small, false);
    await uploadOver(ftp, 'APPE small.bin', more, false);
    await ftp.close();
    const bySize = (path: string) =>
      waitFor(`both events of ${path}`, () => {
        const found = eventsFor(path);
        return found.length >= 2 ? found.sort((a, b) => Number(a.detail['file-size']) - Number(b.detail['file-size'])) : undefined;
      });
    const [stored, appended] = await bySize('/parts.bin');
    assert.equal(stored!.detail['checksum-crc32'], crc32Base64(large));
    // S3 copied the 17 MiB start into the new object: the bridge never saw those bytes.
    assert.equal(appended!.detail['file-size'], large.length + more.length);
    assert.equal('checksum-crc32' in appended!.detail, false);
    const [smallStored, smallAppended] = await bySize('/small.bin');
    assert.equal(smallStored!.detail['checksum-crc32'], crc32Base64(small));
    // A start too small to copy is read back and sent again: every byte was seen.
    assert.equal(smallAppended!.detail['checksum-crc32'], crc32Base64(Buffer.concat([small, more])));
  });

  test('an aborted upload: an "Upload Failed" event with the reply the partner got, and no checksum', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    await ftp.command('TYPE I', 200);
    const socket = await ftp.passive();
    await ftp.command('STOR broken.bin', 150);
    socket.on('error', () => undefined);
    socket.write(randomBytes(10_000));
    await delay(200);
    ftp.send('ABOR');
    assert.equal((await ftp.read()).code, 426);
    assert.equal((await ftp.read()).code, 226);
    socket.destroy();
    await ftp.close();
    const [event] = await waitFor('the failure event', () => (eventsFor('/broken.bin').length > 0 ? eventsFor('/broken.bin') : undefined));
    assert.equal(event!.detailType, 'FTPS Server File Upload Failed');
    assert.equal(event!.detail['status-code'], 'FAILED');
    assert.match(String(event!.detail['failure-message']), /^426 /);
    assert.equal('checksum-crc32' in event!.detail, false);
  });

  test('EventBridge down or slow: the upload still gets its 226 at once, and the lost events are logged and counted', async () => {
    events.mode = 'fail';
    // Far longer than an upload takes on a loaded machine.
    events.delayMs = 8000;
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    await ftp.command('TYPE I', 200);
    const started = Date.now();
    await uploadOver(ftp, 'STOR while-down.txt', 'x', false);
    assert.ok(Date.now() - started < 6000, `226 waited for EventBridge (${Date.now() - started} ms)`);
    await ftp.close();
    const failed = await waitFor('upload-event-failed', () => env.logs.find((line) => line.event === 'upload-event-failed'));
    assert.deepEqual([failed.reason, failed.events], ['request-failed', 1]);
    events.mode = 'refuse';
    events.delayMs = 0;
    const again = await RawFtp.login(env.port, 'alice', 'wonderland');
    await uploadOver(again, 'STOR refused.txt', 'y', false);
    await again.close();
    const refused = await waitFor('a refusal', () => env.logs.find((line) => line.event === 'upload-event-failed' && line.reason === 'refused'));
    assert.equal(refused.errorCode, 'InternalFailure');
    events.mode = 'ok';
  });

  test('DELE, MKD, RMD, RNFR/RNTO, logins and listings write audit events with their activity', async () => {
    await assert.rejects(RawFtp.login(env.port, 'alice', 'wrong'));
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    await ftp.command('TYPE I', 200);
    await ftp.command('MKD inbox', 257);
    await uploadOver(ftp, 'STOR inbox/a.txt', 'a', false);
    await ftp.command('RNFR inbox/a.txt', 350);
    await ftp.command('RNTO inbox/b.txt', 250);
    await listOver(ftp, 'LIST inbox', false);
    const socket = await ftp.passive();
    await ftp.command('RETR inbox/b.txt', 150);
    assert.equal((await readAll(socket)).toString(), 'a');
    await ftp.expect(226);
    await ftp.command('DELE inbox/b.txt', 250);
    await ftp.command('RMD inbox', 250);
    await ftp.close();

    const audit = (event: string, path?: string) => env.logs.find((line) => line.event === event && (path === undefined || line.path === path));
    assert.deepEqual([audit('mkdir', '/inbox')?.activity, audit('mkdir', '/inbox')?.user], ['MKDIR', 'alice']);
    assert.equal(audit('delete', '/inbox/b.txt')?.activity, 'DELETE');
    assert.equal(audit('rmdir', '/inbox')?.activity, 'RMDIR');
    assert.deepEqual([audit('rename', '/inbox/a.txt')?.activity, audit('rename', '/inbox/a.txt')?.to], ['RENAME', '/inbox/b.txt']);
    const logins = env.logs.filter((line) => line.event === 'login');
    assert.ok(logins.some((line) => line.outcome === 'failed' && line.activity === 'AUTH_FAILURE'));
    assert.ok(logins.some((line) => line.outcome === 'ok' && line.activity === 'CONNECTED'));
    const list = audit('transfer', '/inbox');
    assert.deepEqual([list?.command, list?.activity], ['LIST', 'LIST']);
    assert.equal(env.logs.some((line) => line.event === 'transfer-open' && line.command === 'LIST'), false, 'a listing opens no file');
    const read = env.logs.find((line) => line.event === 'transfer' && line.command === 'RETR');
    assert.deepEqual([read?.activity, read?.mode, read?.bytesIn, read?.bytesOut], ['CLOSE', 'READ', 0, 1]);
    assert.equal(env.logs.find((line) => line.event === 'session-close')?.activity, 'DISCONNECTED');
  });

  test('the metric lines: every count of the interval, directions apart, with units; the last interval written at stop', async () => {
    const ftp = await RawFtp.login(env.port, 'alice', 'wonderland');
    const socket = await ftp.passive();
    await ftp.command('STOR open-at-stop.bin', 150);
    await writeAll(socket, 'z');
    socket.destroy();
    await ftp.close();
    // The SDK client keeps its connection to the fake EventBridge alive; the leak check counts it.
    await events.stop();
    await env.stop();
    stopped = true;
    const lines = env.logs.filter((line) => line.event === 'metrics');
    assert.ok(lines.length >= 1, 'the last interval is written at stop');
    const shardLine = lines.find((line) => !('Command' in line) && !('Kind' in line) && !('Reason' in line))!;
    const units = Object.fromEntries(
      (shardLine['_aws'] as { CloudWatchMetrics: { Metrics: { Name: string; Unit: string }[] }[] }).CloudWatchMetrics[0]!.Metrics.map((metric) => [metric.Name, metric.Unit]),
    );
    // Uploads so far: report.csv, parts.bin and small.bin (each stored, then appended to), while-down.txt,
    // refused.txt, inbox/a.txt (the ABOR'd one failed); one download of 1 byte.
    assert.equal(shardLine['FilesIn'], 8);
    assert.equal(shardLine['FilesOut'], 1);
    assert.equal(shardLine['BytesOut'], 1);
    assert.ok((shardLine['BytesIn'] as number) >= 300_000 + 10_000 * 0 + 3);
    assert.equal(shardLine['TransfersOk'], 9, 'the listing is not a transfer');
    assert.equal(shardLine['LoginsFailed'], 1);
    assert.equal(shardLine['UploadEventsFailed'], 2);
    assert.equal(shardLine['CertificateDaysLeft'], 29);
    assert.deepEqual(
      [units['FilesIn'], units['BytesIn'], units['UploadDuration'], units['UploadBufferInUse'], units['CertificateDaysLeft'], units['ConcurrentSessions']],
      ['Count', 'Bytes', 'Milliseconds', 'Bytes', 'None', 'Count'],
    );
    const stor = lines.find((line) => line['Command'] === 'STOR' && 'TransfersOk' in line);
    assert.equal(stor?.['TransfersOk'], 6);
    assert.equal(lines.find((line) => line['Command'] === 'LIST'), undefined);
  });
});
