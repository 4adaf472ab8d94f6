import { MemoryObjectStore } from '../../runtime/src/storage/memory/memory-object-store.ts';
import { makeStore, startTestS3, type TestS3 } from '../support/store-fixture.ts';
import { storeConformance } from './store-conformance.ts';
import { TEST_S3_IMPLEMENTATION } from '../support/s3-server.ts';

/**
 * The conformance cases (store-conformance.ts) against every backend: the memory
 * store with every power, the memory store with none of the optional ones (so the
 * 'unsupported' answers are held to as well), and S3 on fauxqs, or on the external
 * server TEST_S3_ENDPOINT names (RGW: `source <(test/s3/rgw.sh env)`).
 */
storeConformance({
  name: 'memory',
  open: async (limits) => new MemoryObjectStore({ ...limits, listPageSize: 1000 }),
  close: async () => {},
});

storeConformance({
  name: 'memory without optional powers',
  open: async (limits) => new MemoryObjectStore({ ...limits, listPageSize: 250, clientTimes: false, append: false, checksums: ['md5'] }),
  close: async () => {},
});

let s3: TestS3 | undefined;
storeConformance({
  name: `S3 on ${TEST_S3_IMPLEMENTATION}`,
  open: async (limits) => {
    s3 = await startTestS3();
    // The client's checksum mode as the bridge sets it for this server (RGW 16 refuses checksum headers).
    const mode = TEST_S3_IMPLEMENTATION === 'rgw' ? 'when_required' : 'when_supported';
    return makeStore(s3.endpoint, s3.bucket, { ...limits, storeChecksums: mode !== 'when_required' }, mode).store;
  },
  close: async () => {
    await s3?.stop();
  },
});
