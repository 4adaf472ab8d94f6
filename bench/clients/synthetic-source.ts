/**
 * Writes argv[2] synthetic bytes to stdout and exits: the source of a stream of
 * unknown length (`node synthetic-source.ts N | curl -T - ftp://...`), made on the
 * fly rather than read from a file.
 */
import { pipeline } from 'node:stream/promises';
import { syntheticStream } from '../../test/support/synthetic-data.ts';

const bytes = Number(process.argv[2]);
if (!Number.isSafeInteger(bytes) || bytes < 0) throw new Error('usage: synthetic-source.ts <bytes>');
await pipeline(syntheticStream(bytes, 7), process.stdout);
