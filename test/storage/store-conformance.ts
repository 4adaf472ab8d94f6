import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { describe, test } from 'node:test';
import type { ChecksumAlgorithm, EntryInfo, ObjectStore } from '../../runtime/src/storage/object-store.ts';
import { isStorageError, type StorageErrorKind } from '../../runtime/src/storage/storage-error.ts';
import { crc32Base64 } from '../support/crc32-base64.ts';

/**
 * The behaviour every ObjectStore promises, as one list of cases run against each
 * backend (rclone's fstest/fstests is the model): the memory store, S3 on fauxqs, and
 * the external S3 (RGW) when TEST_S3_ENDPOINT is set. A case that depends on a power
 * checks the store's capabilities and expects 'unsupported' where it is not claimed,
 * so a store is held to what it says it can do.
 *
 * Cases share one store and work in a folder of their own.
 */
export interface StoreBackend {
  readonly name: string;
  /** A store with the given limits (the suite asks for small ones to reach the limit errors). */
  open(limits: StoreLimits): Promise<ObjectStore>;
  close(): Promise<void>;
}

export interface StoreLimits {
  readonly renameMaxObjects: number;
  readonly maxFileBytes: number;
}

const LIMITS: StoreLimits = { renameMaxObjects: 5, maxFileBytes: 6 * 1024 * 1024 };
const ALGORITHMS: readonly ChecksumAlgorithm[] = ['sha256', 'sha1', 'md5', 'crc32'];
/** More than one page of a listing on every backend (S3 pages hold 1000). */
const MANY_FILES = 1003;

export function storeConformance(backend: StoreBackend): void {
  describe(`ObjectStore conformance: ${backend.name}`, () => {
    let store: ObjectStore;
    let folderCount = 0;
    /** A fresh folder for one case. */
    const folder = (): string => `case-${++folderCount}`;

    test.before(async () => {
      store = await backend.open(LIMITS);
    });
    test.after(() => backend.close());

    test('the capabilities are well-formed', () => {
      const { capabilities } = store;
      assert.ok(capabilities.name.length > 0);
      for (const algorithm of capabilities.storedChecksums) assert.ok(capabilities.checksums.includes(algorithm));
      assert.ok(capabilities.maxFileBytes >= 1 && capabilities.maxFileBytes <= LIMITS.maxFileBytes);
    });

    test('a file written whole reads back whole, and stat reports it', async () => {
      const dir = folder();
      const data = bytes(300_000);
      const before = Date.now();
      const result = await store.write(`${dir}/a.bin`, chunked(data), { metadata: { 'ftp-user': 'alice' } });
      assert.deepEqual(result, { bytesWritten: data.length, size: data.length, crc32: crc32Base64(data) });
      const read = await store.read(`${dir}/a.bin`);
      assert.equal(read.size, data.length);
      assert.ok((await readAll(read.body)).equals(data));
      const entry = await store.stat(`${dir}/a.bin`);
      assert.equal(entry?.kind, 'file');
      assert.equal(entry?.name, 'a.bin');
      assert.equal(entry?.size, data.length);
      // Store clocks may be a little off this one's, and S3 keeps whole seconds in a HEAD.
      assert.ok(Math.abs((entry?.modified?.getTime() ?? 0) - before) < 60_000);
    });

    test('a file written in several parts: the write reports the CRC32 of all of it', async () => {
      const dir = folder();
      // More than one part on S3 (5 MiB parts here): the parts' CRC32s are combined.
      const data = bytes(LIMITS.maxFileBytes);
      const result = await store.write(`${dir}/parts.bin`, chunked(data));
      assert.deepEqual(result, { bytesWritten: data.length, size: data.length, crc32: crc32Base64(data) });
      assert.ok((await readAll((await store.read(`${dir}/parts.bin`)).body)).equals(data));
    });

    test('an empty file is a file of size 0', async () => {
      const dir = folder();
      await store.write(`${dir}/empty`, Readable.from([]));
      assert.deepEqual(await statOf(store, `${dir}/empty`), { kind: 'file', size: 0 });
      assert.equal((await readAll((await store.read(`${dir}/empty`)).body)).length, 0);
    });

    test('a read from an offset gives the rest; at the end nothing; past it invalid-offset', async () => {
      const dir = folder();
      const data = bytes(10_000);
      await store.write(`${dir}/r`, chunked(data));
      const middle = await store.read(`${dir}/r`, { offset: 1234 });
      assert.equal(middle.size, data.length);
      assert.ok((await readAll(middle.body)).equals(data.subarray(1234)));
      const end = await store.read(`${dir}/r`, { offset: data.length });
      assert.equal((await readAll(end.body)).length, 0);
      await rejectsWith(store.read(`${dir}/r`, { offset: data.length + 1 }), 'invalid-offset');
      await rejectsWith(store.read(`${dir}/r`, { offset: -1 }), 'invalid-offset');
      await rejectsWith(store.read(`${dir}/missing`), 'not-found');
    });

    test('stat and isFolder tell files, made folders, implied folders and nothing apart', async () => {
      const dir = folder();
      assert.deepEqual(await statOf(store, ''), { kind: 'directory', size: 0 });
      assert.equal(await store.isFolder(''), true);
      await store.write(`${dir}/implied/deep/f`, Readable.from([Buffer.from('x')]));
      await store.makeDirectory(`${dir}/made`);
      assert.deepEqual(await statOf(store, `${dir}/implied`), { kind: 'directory', size: 0 });
      assert.deepEqual(await statOf(store, `${dir}/implied/deep`), { kind: 'directory', size: 0 });
      assert.deepEqual(await statOf(store, `${dir}/made`), { kind: 'directory', size: 0 });
      assert.equal(await store.stat(`${dir}/nothing`), undefined);
      assert.equal(await store.isFolder(`${dir}/implied`), true);
      assert.equal(await store.isFolder(`${dir}/made`), true);
      assert.equal(await store.isFolder(`${dir}/implied/deep/f`), false);
      assert.equal(await store.isFolder(`${dir}/nothing`), false);
      // A name that only starts like a folder's is not below it.
      assert.equal(await store.isFolder(`${dir}/impl`), false);
      if (store.capabilities.folderTimes) assert.ok((await store.stat(`${dir}/made`))?.modified instanceof Date);
    });

    test('a listing gives the direct children, in bounded sorted pages, and nothing for a missing folder', async () => {
      const dir = folder();
      await store.makeDirectory(`${dir}/sub`);
      await store.write(`${dir}/b.txt`, Readable.from([Buffer.from('bb')]));
      await store.write(`${dir}/a.txt`, Readable.from([Buffer.from('a')]));
      await store.write(`${dir}/implied/inner.txt`, Readable.from([Buffer.from('i')]));
      const entries = await listAll(store, dir);
      assert.deepEqual(
        entries.map((entry) => [entry.name, entry.kind, entry.size]),
        [
          ['a.txt', 'file', 1],
          ['b.txt', 'file', 2],
          ['implied', 'directory', 0],
          ['sub', 'directory', 0],
        ],
      );
      assert.deepEqual(await listAll(store, `${dir}/sub`), []);
      assert.deepEqual(await listAll(store, `${dir}/missing`), []);
      const named = await listAll(store, dir, { names: (name) => name.startsWith('a') });
      assert.deepEqual(named.map((entry) => entry.name), ['a.txt']);
    });

    test(`a folder of ${MANY_FILES} files lists in more than one page, every file once`, async () => {
      const dir = folder();
      const names = Array.from({ length: MANY_FILES }, (_, index) => `f${String(index).padStart(5, '0')}`);
      await forEachLimited(names, 16, (name) => store.write(`${dir}/${name}`, Readable.from([Buffer.from(name)])));
      const pages: (readonly EntryInfo[])[] = [];
      for await (const page of store.list(dir, { clientTimes: false })) pages.push(page);
      assert.ok(pages.length > 1, 'more than one page');
      for (const page of pages) {
        assert.ok(page.length <= 1000);
        assert.deepEqual(page.map((entry) => entry.name), [...page.map((entry) => entry.name)].sort());
      }
      assert.deepEqual(pages.flat().map((entry) => entry.name).sort(), names);
    });

    test('folders: made once, removed only when empty, the root neither', async () => {
      const dir = folder();
      await store.makeDirectory(`${dir}/d`);
      await rejectsWith(store.makeDirectory(`${dir}/d`), 'already-exists');
      await store.write(`${dir}/file`, Readable.from([Buffer.from('x')]));
      await rejectsWith(store.makeDirectory(`${dir}/file`), 'already-exists');
      await rejectsWith(store.makeDirectory(''), 'already-exists');
      await store.write(`${dir}/d/inside`, Readable.from([Buffer.from('x')]));
      await rejectsWith(store.removeDirectory(`${dir}/d`), 'not-empty');
      await store.delete(`${dir}/d/inside`);
      await store.removeDirectory(`${dir}/d`);
      assert.equal(await store.stat(`${dir}/d`), undefined);
      await rejectsWith(store.removeDirectory(`${dir}/d`), 'not-found');
      await rejectsWith(store.removeDirectory(''), 'invalid-name');
    });

    test('a file renamed moves with its bytes; the target must not exist; the source must', async () => {
      const dir = folder();
      const data = bytes(5000);
      await store.write(`${dir}/from`, chunked(data));
      await store.write(`${dir}/taken`, Readable.from([Buffer.from('t')]));
      await rejectsWith(store.rename(`${dir}/from`, `${dir}/taken`), 'already-exists');
      let counted: number | undefined;
      await store.rename(`${dir}/from`, `${dir}/to`, { beforeCopy: (objects) => (counted = objects) });
      assert.equal(counted, 1);
      assert.equal(await store.stat(`${dir}/from`), undefined);
      assert.ok((await readAll((await store.read(`${dir}/to`)).body)).equals(data));
      await rejectsWith(store.rename(`${dir}/from`, `${dir}/again`), 'not-found');
      await rejectsWith(store.rename('', `${dir}/root`), 'invalid-name');
    });

    test('a folder renamed moves everything below it; into itself is invalid-name', async () => {
      const dir = folder();
      await store.makeDirectory(`${dir}/old`);
      await store.makeDirectory(`${dir}/old/empty`);
      await store.write(`${dir}/old/a`, Readable.from([Buffer.from('a')]));
      await store.write(`${dir}/old/deep/b`, Readable.from([Buffer.from('bb')]));
      await rejectsWith(store.rename(`${dir}/old`, `${dir}/old/inner`), 'invalid-name');
      await store.rename(`${dir}/old`, `${dir}/new`);
      assert.equal(await store.stat(`${dir}/old`), undefined);
      assert.deepEqual((await listAll(store, `${dir}/new`)).map((entry) => entry.name), ['a', 'deep', 'empty']);
      assert.deepEqual(await statOf(store, `${dir}/new/deep/b`), { kind: 'file', size: 2 });
      assert.deepEqual(await statOf(store, `${dir}/new/empty`), { kind: 'directory', size: 0 });
    });

    test('a folder holding more than the rename limit is refused whole: too-many-objects', async () => {
      const dir = folder();
      for (let index = 0; index <= LIMITS.renameMaxObjects; index++) {
        await store.write(`${dir}/big/f${index}`, Readable.from([Buffer.from('x')]));
      }
      await rejectsWith(store.rename(`${dir}/big`, `${dir}/moved`), 'too-many-objects');
      assert.equal((await listAll(store, `${dir}/big`)).length, LIMITS.renameMaxObjects + 1);
      assert.equal(await store.stat(`${dir}/moved`), undefined);
    });

    test('delete removes a file; a missing one or the root cannot be', async () => {
      const dir = folder();
      await store.write(`${dir}/gone`, Readable.from([Buffer.from('x')]));
      await store.delete(`${dir}/gone`);
      assert.equal(await store.stat(`${dir}/gone`), undefined);
      await rejectsWith(store.delete(`${dir}/gone`), 'not-found');
      await rejectsWith(store.delete(''), 'invalid-name');
    });

    test('a file written again holds only the new bytes', async () => {
      const dir = folder();
      await store.write(`${dir}/o`, chunked(bytes(20_000)));
      const second = Buffer.from('shorter');
      await store.write(`${dir}/o`, Readable.from([second]));
      assert.ok((await readAll((await store.read(`${dir}/o`)).body)).equals(second));
      assert.deepEqual(await statOf(store, `${dir}/o`), { kind: 'file', size: second.length });
    });

    test('a failed upload leaves the file as it was', async () => {
      const dir = folder();
      await store.write(`${dir}/kept`, Readable.from([Buffer.from('before')]));
      const failing = new Readable({
        read() {
          this.push(bytes(1000));
          this.destroy(new Error('client went away'));
        },
      });
      await assert.rejects(store.write(`${dir}/kept`, failing), (error) => isStorageError(error));
      assert.equal((await readAll((await store.read(`${dir}/kept`)).body)).toString(), 'before');
      await assert.rejects(store.write(`${dir}/new`, failingAfter(1000)), (error) => isStorageError(error));
      assert.equal(await store.stat(`${dir}/new`), undefined);
    });

    for (const size of [10_000, 5.5 * 1024 * 1024]) {
      test(`wholeFile (${size} bytes): asked once the source has ended; nothing is visible before it resolves, nothing stored if it refuses`, async () => {
        const dir = folder();
        await store.write(`${dir}/f`, Readable.from([Buffer.from('before')]));
        const data = bytes(size);
        let sourceEnded = false;
        const source = chunked(data).once('end', () => (sourceEnded = true));
        let askedAfterEnd: boolean | undefined;
        let seenWhileAsked: { kind: string; size: number } | undefined;
        const wholeFile = async (): Promise<void> => {
          askedAfterEnd ??= sourceEnded;
          // Long enough for a store to send all it holds: still the old file.
          await new Promise((resolve) => setTimeout(resolve, 300));
          seenWhileAsked = await statOf(store, `${dir}/f`);
        };
        const result = await store.write(`${dir}/f`, source, { wholeFile });
        assert.equal(askedAfterEnd, true);
        assert.deepEqual(seenWhileAsked, { kind: 'file', size: 'before'.length });
        assert.equal(result.size, data.length);
        assert.ok((await readAll((await store.read(`${dir}/f`)).body)).equals(data));

        const refusal = new Error('the client was killed, not finished');
        const refused = store.write(`${dir}/f`, chunked(bytes(size)), { wholeFile: () => Promise.reject(refusal) });
        await rejectsWith(refused, 'aborted');
        await assert.rejects(refused, (error: Error) => causes(error).includes(refusal), 'the refusal is the cause');
        assert.ok((await readAll((await store.read(`${dir}/f`)).body)).equals(data), 'the refused write left the file as it was');
        const late = store.write(`${dir}/new`, chunked(bytes(size)), {
          wholeFile: () => new Promise((_resolve, reject) => setTimeout(() => reject(refusal), 300)),
        });
        await rejectsWith(late, 'aborted');
        assert.equal(await store.stat(`${dir}/new`), undefined);
      });
    }

    test('a write from an offset keeps that many bytes and appends (or is unsupported)', async () => {
      const dir = folder();
      const first = bytes(1000);
      await store.write(`${dir}/log`, Readable.from([first]));
      const more = bytes(500);
      if (store.capabilities.append === false) {
        await rejectsWith(store.write(`${dir}/log`, Readable.from([more]), { offset: 1000 }), 'unsupported');
        return;
      }
      const appended = await store.write(`${dir}/log`, Readable.from([more]), { offset: 1000 });
      // The start it kept was read back, so the store saw every byte: the CRC32 covers them.
      assert.deepEqual(appended, { bytesWritten: 500, size: 1500, crc32: crc32Base64(Buffer.concat([first, more])) });
      assert.ok((await readAll((await store.read(`${dir}/log`)).body)).equals(Buffer.concat([first, more])));
      // A resume from inside the file: the rest is replaced.
      const tail = bytes(10);
      await store.write(`${dir}/log`, Readable.from([tail]), { offset: 100 });
      assert.ok((await readAll((await store.read(`${dir}/log`)).body)).equals(Buffer.concat([first.subarray(0, 100), tail])));
      await rejectsWith(store.write(`${dir}/log`, Readable.from([tail]), { offset: 111 }), 'invalid-offset');
      await rejectsWith(store.write(`${dir}/nothing`, Readable.from([tail]), { offset: 1 }), 'not-found');
    });

    test('an append built on a version that changed meanwhile is a conflict, and stores nothing', async (t) => {
      if (store.capabilities.append === false) return t.skip('the store does not append');
      const dir = folder();
      await store.write(`${dir}/raced`, Readable.from([Buffer.from('0123456789')]));
      let replaced = false;
      const source = new Readable({
        read() {
          if (replaced) return;
          replaced = true;
          // Another upload commits while this one streams.
          store.write(`${dir}/raced`, Readable.from([Buffer.from('other upload')])).then(
            () => {
              this.push(Buffer.from('appended'));
              this.push(null);
            },
            (error: unknown) => this.destroy(error as Error),
          );
        },
      });
      await rejectsWith(store.write(`${dir}/raced`, source, { offset: 10 }), 'conflict');
      assert.equal((await readAll((await store.read(`${dir}/raced`)).body)).toString(), 'other upload');
    });

    test('a file larger than the largest the store accepts is too-large, and stores nothing', async () => {
      const dir = folder();
      const largest = store.capabilities.maxFileBytes;
      await store.write(`${dir}/big`, Readable.from([Buffer.from('before')]));
      await rejectsWith(store.write(`${dir}/big`, chunked(Buffer.alloc(largest + 1))), 'too-large');
      assert.equal((await readAll((await store.read(`${dir}/big`)).body)).toString(), 'before');
    });

    test('checksums: every algorithm claimed, whole and ranged; the others unsupported', async () => {
      const dir = folder();
      const data = bytes(70_000);
      await store.write(`${dir}/sum`, chunked(data));
      const { checksums, storedChecksums } = store.capabilities;
      for (const algorithm of ALGORITHMS) {
        if (!checksums.includes(algorithm)) {
          await rejectsWith(store.checksum(`${dir}/sum`, { algorithm }), 'unsupported');
          continue;
        }
        const read: number[] = [];
        const whole = await store.checksum(`${dir}/sum`, { algorithm, beforeRead: (bytes) => read.push(bytes) });
        assert.equal(whole.digest.toString('hex'), digestOf(algorithm, data), algorithm);
        assert.deepEqual([whole.start, whole.end], [0, data.length]);
        if (whole.source === 'stored') assert.ok(storedChecksums.includes(algorithm), `${algorithm} came from stored data`);
        if (whole.source === 'computed') assert.deepEqual(read, [data.length]);
        const ranged = await store.checksum(`${dir}/sum`, { algorithm, range: { start: 100, end: 60_100 } });
        assert.equal(ranged.digest.toString('hex'), digestOf(algorithm, data.subarray(100, 60_100)), `${algorithm} ranged`);
        await rejectsWith(store.checksum(`${dir}/sum`, { algorithm, range: { start: 0, end: data.length + 1 } }), 'invalid-offset');
        await rejectsWith(store.checksum(`${dir}/missing`, { algorithm }), 'not-found');
        await rejectsWith(store.checksum(dir, { algorithm }), 'not-found');
      }
      // A caller's refusal to pay for the read stops it with the caller's error.
      const algorithm = checksums[0];
      if (algorithm !== undefined) {
        await store.write(`${dir}/fresh`, chunked(bytes(1000)));
        const refusal = new Error('over the allowance');
        const answer = store.checksum(`${dir}/fresh`, { algorithm, range: { start: 1, end: 999 }, beforeRead: () => { throw refusal; } });
        await assert.rejects(answer, (error) => error === refusal);
      }
    });

    test('client times: set, reported by stat and list, a repeat writes nothing (or unsupported)', async () => {
      const dir = folder();
      await store.write(`${dir}/t`, Readable.from([Buffer.from('x')]));
      const time = new Date('2001-02-03T04:05:06.000Z');
      if (!store.capabilities.clientTimes) {
        await rejectsWith(store.setModified(`${dir}/t`, time), 'unsupported');
        return;
      }
      assert.deepEqual(await store.setModified(`${dir}/t`, time), { changed: true });
      assert.equal((await store.stat(`${dir}/t`))?.modified?.toISOString(), time.toISOString());
      const listed = await listAll(store, dir);
      assert.equal(listed[0]?.modified?.toISOString(), time.toISOString());
      let copies = 0;
      const again = await store.setModified(`${dir}/t`, new Date(time.getTime() + 400), { precisionMs: 1000, beforeCopy: () => copies++ });
      assert.deepEqual([again, copies], [{ changed: false }, 0]);
      // Still the same bytes.
      assert.equal((await readAll((await store.read(`${dir}/t`)).body)).toString(), 'x');
      await rejectsWith(store.setModified(`${dir}/missing`, time), 'not-found');
      await rejectsWith(store.setModified(dir, time), 'not-found');
    });

    test('unicode and awkward names round-trip; hostile ones are invalid-name', async () => {
      const dir = folder();
      const names = ['ünïcødé 名前 😀.txt', 'two  spaces ', '100% +plus& ?query#hash', "quote'\"`<>", '-dash', '~tilde', 'a'.repeat(200)];
      for (const name of names) {
        await store.write(`${dir}/${name}`, Readable.from([Buffer.from(name)]));
        assert.equal((await readAll((await store.read(`${dir}/${name}`)).body)).toString(), name);
      }
      const listed = (await listAll(store, dir)).map((entry) => entry.name);
      assert.deepEqual([...listed].sort(), [...names].sort());
      const hostile = [`${dir}/../escape`, `${dir}/./x`, `${dir}//x`, `${dir}/line\nbreak`, `${dir}/nul\u0000`, `${dir}/del\u007f`, `${dir}/\ud800lone`, `${dir}/${'é'.repeat(600)}`];
      for (const path of hostile) {
        await rejectsWith(store.write(path, Readable.from([Buffer.from('x')])), 'invalid-name', path);
        await rejectsWith(store.stat(path), 'invalid-name', path);
        await rejectsWith(store.makeDirectory(path), 'invalid-name', path);
      }
      await rejectsWith(store.write('', Readable.from([Buffer.from('x')])), 'invalid-name');
      await rejectsWith(store.write(`${dir}/meta`, Readable.from([Buffer.from('x')]), { metadata: { 'Bad Name': 'v' } }), 'invalid-name');
    });

    test('an aborted signal stops a write and a read with aborted', async () => {
      const dir = folder();
      const controller = new AbortController();
      controller.abort();
      await rejectsWith(store.write(`${dir}/x`, Readable.from([Buffer.from('x')]), { signal: controller.signal }), 'aborted');
      assert.equal(await store.stat(`${dir}/x`), undefined);
      await store.write(`${dir}/y`, chunked(bytes(200_000)));
      const reading = new AbortController();
      const { body } = await store.read(`${dir}/y`, { signal: reading.signal });
      reading.abort();
      await rejectsWith(readAll(body), 'aborted');
    });
  });
}

async function rejectsWith(promise: Promise<unknown>, kind: StorageErrorKind, what: string = kind): Promise<void> {
  await assert.rejects(promise, (error) => {
    assert.ok(isStorageError(error), `${what}: a StorageError, got ${String(error)}`);
    assert.equal(error.kind, kind, what);
    return true;
  });
}

async function statOf(store: ObjectStore, path: string): Promise<{ kind: string; size: number } | undefined> {
  const entry = await store.stat(path);
  return entry && { kind: entry.kind, size: entry.size };
}

async function listAll(store: ObjectStore, dir: string, options: { names?: (name: string) => boolean } = {}): Promise<EntryInfo[]> {
  const entries: EntryInfo[] = [];
  for await (const page of store.list(dir, options)) entries.push(...page);
  return entries;
}

async function forEachLimited<T>(items: readonly T[], limit: number, each: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await each(items[next++] as T);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

/** An error and its causes, outermost first. */
function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let at = error; at !== undefined && chain.length < 10; at = (at as { cause?: unknown }).cause) chain.push(at);
  return chain;
}

function bytes(size: number): Buffer {
  const data = Buffer.alloc(size);
  for (let index = 0; index < size; index++) data[index] = (index * 31 + (index >> 8)) & 0xff;
  return data;
}

function chunked(data: Buffer, chunkBytes = 64 * 1024): Readable {
  const chunks: Buffer[] = [];
  for (let start = 0; start < data.length; start += chunkBytes) chunks.push(data.subarray(start, start + chunkBytes));
  return Readable.from(chunks);
}

function failingAfter(bytesFirst: number): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (sent) return void this.destroy(new Error('client went away'));
      sent = true;
      this.push(bytes(bytesFirst));
    },
  });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function digestOf(algorithm: ChecksumAlgorithm, data: Buffer): string {
  if (algorithm !== 'crc32') return createHash(algorithm).update(data).digest('hex');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(data) >>> 0);
  return crc.toString('hex');
}
