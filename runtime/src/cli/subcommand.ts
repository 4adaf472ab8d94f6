/** What a subcommand gets from the command line besides its arguments. */
export interface CommandContext {
  /** How the usage texts name the program (`node runtime/dist/main.js`). */
  readonly program: string;
  readonly env: NodeJS.ProcessEnv;
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** Reads a password from standard input, without echo at a terminal. */
  readonly readPassword: () => Promise<string>;
}

/** One word after the program name (`hash-password`, `probe`): a row of the command line's table. */
export interface Subcommand {
  readonly name: string;
  /** What follows the name in the usage line, '' for nothing (`[options] URL`). */
  readonly synopsis: string;
  /** Its line in --help, after the name and the operand it needs (`probe URL`). */
  readonly listed: { readonly operand: string; readonly summary: string };
  /** Runs it with the arguments after its name; resolves with the exit status. */
  run(argv: readonly string[], context: CommandContext): Promise<number>;
}
