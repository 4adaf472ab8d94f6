/** Part copies (UploadPartCopy) of one object running at once, for every server-side copy. */
export const COPY_PART_CONCURRENCY = 4;

/**
 * How an append or resume keeps the start of a file whose name holds '%' (S3_COPY_PERCENT_NAMES):
 * copied inside S3, read back through the bridge, or whichever a probe finds right.
 */
export type PercentCopyMode = 'detect' | 'copy' | 'read-back';

/** The CopySource of `key` in `bucket`: the key URL-encoded, '/' kept. */
export function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * False for a key that a store decoding the copy source twice would read as another
 * key: one holding '%'. Ceph RGW's UploadPartCopy does (rgw_rest_s3.cc,
 * RGWPutObj_ObjStore_S3::get_params: url_decode of the whole header, then of the
 * object name again), while AWS S3 decodes once. No encoding suits both: a string
 * that both decode to K needs url_decode(K) == K, and RGW's url_decode never leaves
 * a '%' as it is (it decodes "%XX", cuts the name at a trailing '%', or fails).
 */
export function copySourceIsSafe(key: string): boolean {
  return !key.includes('%');
}
