/** The password from a pipe, or typed at a terminal without echo; one trailing newline is dropped. */
export async function readPassword(): Promise<string> {
  const stdin = process.stdin;
  if (stdin.isTTY) {
    process.stderr.write('Password: ');
    stdin.setRawMode(true);
    const password = await new Promise<string>((resolve) => {
      let typed = '';
      stdin.on('data', (chunk: Buffer) => {
        for (const char of chunk.toString('utf8')) {
          if (char === '\r' || char === '\n') return resolve(typed);
          if (char === '\u0003') process.exit(130);
          if (char === '\u007f') typed = typed.slice(0, -1);
          else typed += char;
        }
      });
    });
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
    return password;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
