#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { main } from './cli/command-line.ts';

/**
 * The entry point the container runs (`node runtime/dist/main.js`). The command line is
 * cli/command-line.ts, the composition root composition-root.ts, signal handling
 * cli/shutdown-signals.ts.
 */
function isEntryPoint(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`ftp-s3-bridge: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
