import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The local stack's S3 server (fauxqs) keeps multipart uploads on disk
 * (`<dir>/s3/_multipart/<uploadId>/.upload.json`) and answers no ListMultipartUploads:
 * the bridge knows only those its journal (FTP_PENDING_UPLOADS_FILE) records, and the
 * bridge itself discards the journal's expired and unfinished ones at start. This
 * removes the others (a bridge killed between starting an upload and recording it, or
 * one from before the journal), through fauxqs's own AbortMultipartUpload, so that no
 * upload stays on disk that nothing reports. Returns how many it removed.
 */
export async function removeUnrecordedUploads(options: {
  readonly multipartDir: string;
  readonly journalFile: string;
  readonly endpoint: string;
}): Promise<number> {
  const recorded = new Set<string>();
  try {
    const journal = JSON.parse(await readFile(options.journalFile, 'utf8')) as { uploads?: Array<{ uploadId?: unknown }> };
    for (const upload of journal.uploads ?? []) if (typeof upload.uploadId === 'string') recorded.add(upload.uploadId);
  } catch {
    // No journal (or a torn one): nothing is recorded.
  }
  let ids: string[];
  try {
    ids = await readdir(options.multipartDir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const id of ids) {
    if (recorded.has(id)) continue;
    let upload: { bucket?: unknown; key?: unknown };
    try {
      upload = JSON.parse(await readFile(join(options.multipartDir, id, '.upload.json'), 'utf8')) as typeof upload;
    } catch {
      continue;
    }
    if (typeof upload.bucket !== 'string' || typeof upload.key !== 'string') continue;
    const key = upload.key.split('/').map(encodeURIComponent).join('/');
    const response = await fetch(`${options.endpoint}/${upload.bucket}/${key}?uploadId=${encodeURIComponent(id)}`, { method: 'DELETE' });
    if (response.ok) removed += 1;
  }
  return removed;
}
