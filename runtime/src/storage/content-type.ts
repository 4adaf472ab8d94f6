import mime from 'mime';

/** The Content-Type an object gets from its name; application/octet-stream when unknown. */
export function contentTypeFor(path: string): string {
  return mime.getType(path) ?? 'application/octet-stream';
}
