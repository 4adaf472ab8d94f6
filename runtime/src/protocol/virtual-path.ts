/**
 * Paths as the client sees them: absolute, '/'-separated, rooted at the user's home.
 * Resolution is purely lexical, like a chroot: '..' at the root stays at the root,
 * '\' is a separator (Windows clients), '.' and empty segments vanish. Nothing is
 * percent-decoded, so '%2e%2e' is an ordinary name. NUL and other control
 * characters, and paths longer than S3 keys can be, are refused.
 */
export const MAX_PATH_BYTES = 1024;

export class PathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PathError';
  }
}

/** Resolves `argument` against the current folder `cwd` (itself a resolved path). */
export function resolvePath(cwd: string, argument: string): string {
  if (/[\u0000-\u001f\u007f]/.test(argument)) throw new PathError('Path contains control characters');
  const joined = argument.startsWith('/') || argument.startsWith('\\') ? argument : `${cwd}/${argument}`;
  const segments: string[] = [];
  for (const segment of joined.split(/[/\\]+/)) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const path = `/${segments.join('/')}`;
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) throw new PathError('Path too long');
  return path;
}

/** Maps a resolved virtual path into the store, below `home` (a store path). */
export function toStorePath(home: string, path: string): string {
  const relative = path.slice(1);
  if (home === '') return relative;
  return relative === '' ? home : `${home}/${relative}`;
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function parentPath(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

export function joinPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}
