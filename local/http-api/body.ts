import type { IncomingMessage } from 'node:http';

/** API Gateway's own payload limit (10 MiB). poolgate's handlers enforce their smaller one (64 KiB). */
export const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

export type BodyResult = { readonly tooLarge: false; readonly body: Buffer } | { readonly tooLarge: true };

/**
 * Reads the whole request body, keeping at most `limit` bytes. An oversized body is still read to
 * its end (and discarded) so the client, which is usually still uploading, gets to read the 413.
 */
export function readBody(req: IncomingMessage, limit = MAX_PAYLOAD_BYTES): Promise<BodyResult> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > limit ? { tooLarge: true } : { tooLarge: false, body: Buffer.concat(chunks) }));
    req.on('error', reject);
  });
}
