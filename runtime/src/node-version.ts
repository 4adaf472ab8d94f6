/**
 * The Node.js versions the bridge runs on: the two LTS lines, 22 and 24, each from its
 * first LTS release (22.11.0, 24.11.0). Node 20 is past its end of life, and on Node
 * 20 and 22 libuv reports a data connection reset by the client as a clean end of
 * stream (see upload-end.ts): the bridge copes with that, but is tested only on these.
 * package.json's `engines` says the same.
 */
const SUPPORTED_LINES: readonly { readonly major: number; readonly minor: number }[] = [
  { major: 22, minor: 11 },
  { major: 24, minor: 11 },
];

export const SUPPORTED_NODE = SUPPORTED_LINES.map(({ major, minor }) => `${major}.${minor}+`).join(' or ');

/** One line naming the versions needed when `version` (process.version) is not one of them; undefined when it is. */
export function unsupportedNodeVersion(version: string): string | undefined {
  const match = /^v?(\d+)\.(\d+)\.\d+/.exec(version);
  const [major, minor] = match ? [Number(match[1]), Number(match[2])] : [NaN, NaN];
  if (SUPPORTED_LINES.some((line) => line.major === major && minor >= line.minor)) return undefined;
  return `Node.js ${version} is not supported: run the bridge on Node.js ${SUPPORTED_NODE} (node_modules/.bin/node after npm ci)`;
}
