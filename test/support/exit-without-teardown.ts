/**
 * Loaded into every test process (`node --test --import ./test/support/exit-without-teardown.ts`):
 * once the event loop has drained and 'exit' has been emitted, the process ends through
 * process.exit() instead of Node's natural-exit teardown.
 *
 * That teardown (FreeEnvironment → Environment::CleanupHandles) was seen to spin at 100 %
 * CPU forever in a test file's process whose tests had all passed: gdb showed uv_run()
 * called again and again with libuv holding no handle and no request. process.exit()
 * skips it, as the bridge's own exit does. `--test-force-exit` skips it too, but exits
 * while the runner's reporter may still hold results, and loses them (measured: 195-223
 * of 228 tests reported); here every result has been written before 'exit' is emitted.
 *
 * The listener is added at the first 'beforeExit', after every 'exit' listener the test
 * runner added, so it runs last.
 */
process.once('beforeExit', () => {
  process.on('exit', (code) => {
    process.exit(code);
  });
});
