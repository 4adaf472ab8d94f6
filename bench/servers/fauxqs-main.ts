/**
 * fauxqs in a process of its own (so its CPU and memory are not the bench's), on
 * 127.0.0.1 only, with one bucket, objects kept as files under the directory given as argv[2]. Prints
 * {"port": N} and serves until SIGTERM.
 *
 * One compatibility fix is applied while fauxqs loads: its CompleteMultipartUpload
 * parser does not decode numeric character references, and Go's XML encoder (rclone,
 * through aws-sdk-go) writes the quotes around every ETag as &#34;. Without the fix
 * fauxqs refuses every multipart upload rclone makes. The fix touches only that
 * parser; the bridge and the AWS SDK for JavaScript send &quot; or bare quotes, which
 * fauxqs already decodes.
 */
import { registerHooks } from 'node:module';

const PARSER_FILE = '/fauxqs/dist/s3/actions/completeMultipartUpload.js';
const UNESCAPE_APOS = `.replaceAll("&apos;", "'")`;
let patched = false;

registerHooks({
  load(url, context, nextLoad) {
    const result = nextLoad(url, context);
    if (!url.endsWith(PARSER_FILE) || result.source === undefined) return result;
    const source = String(result.source);
    if (!source.includes(UNESCAPE_APOS)) return result;
    patched = true;
    return { ...result, source: source.replace(UNESCAPE_APOS, `${UNESCAPE_APOS}.replaceAll("&#34;", '"')`) };
  },
});

// Imported after the hook is registered, so that fauxqs loads through it. fauxqs alone
// listens on 0.0.0.0 whatever its host option says; startLoopbackFauxqs binds 127.0.0.1.
const { startLoopbackFauxqs } = await import('../../runtime/src/local/loopback-fauxqs.ts');
const storageDir = process.argv[2];
const bucket = process.argv[3] ?? 'bench';
if (storageDir === undefined) throw new Error('usage: fauxqs-main.ts <storage dir> [bucket]');
const server = await startLoopbackFauxqs({ port: 0, logger: false, s3StorageDir: storageDir });
if (!patched) {
  await server.stop();
  throw new Error(`fauxqs changed: could not apply the &#34; fix to ${PARSER_FILE}; rclone's multipart uploads would fail`);
}
server.createBucket(bucket);
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
process.once('SIGTERM', () => void server.stop().then(() => process.exit(0)));
