// dynalite (a DynamoDB implementation on LevelDB, used by tests and the local stack) ships no types.
declare module 'dynalite' {
  import type { Server } from 'node:http';
  function dynalite(options?: { readonly path?: string; readonly createTableMs?: number; readonly deleteTableMs?: number; readonly updateTableMs?: number }): Server;
  export default dynalite;
}
