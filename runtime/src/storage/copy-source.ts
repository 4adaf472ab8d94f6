/** Part copies (UploadPartCopy) of one object running at once, for every server-side copy. */
export const COPY_PART_CONCURRENCY = 4;

/** The CopySource of `key` in `bucket`: the key URL-encoded, '/' kept. */
export function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * False for a key that a store decoding the copy source twice (Ceph RGW 16, in
 * UploadPartCopy) would read as another key: one holding '%'.
 */
export function copySourceIsSafe(key: string): boolean {
  return !key.includes('%');
}
