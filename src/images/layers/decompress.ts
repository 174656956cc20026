/**
 * Turns a (possibly compressed) layer or archive stream into plain tar bytes. The compression is
 * sniffed from the magic bytes: Docker's own media types and `docker save` files do not always
 * say whether a tar is compressed, and sniffing cannot be fooled into anything worse than a
 * parse error.
 */
import { Readable } from 'node:stream';
import { createGunzip, type ZlibOptions } from 'node:zlib';
import { Decompress } from 'fzstd';

/** Compression formats berth can read. */
export type Compression = 'none' | 'gzip' | 'zstd';

/** The compression a stream starts with, judged from its first bytes. */
export function sniffCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

function toBuffer(value: Buffer | Uint8Array | string): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string') return Buffer.from(value);
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** Reads the first `n` bytes (fewer at end of stream) and returns them with a stream of everything. */
export async function peekStream(source: AsyncIterable<Buffer | Uint8Array | string>, n: number): Promise<{ head: Buffer; stream: AsyncIterable<Buffer> }> {
  const iterator = source[Symbol.asyncIterator]();
  const parts: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < n) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    const chunk = toBuffer(next.value);
    parts.push(chunk);
    length += chunk.length;
  }
  const head = Buffer.concat(parts);
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    if (done) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield toBuffer(next.value);
    }
  }
  return { head: head.subarray(0, n), stream: rest() };
}

/** Output chunk size of gunzip. */
const gunzipChunkBytes = 256 * 1024;

async function* gunzip(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const input = Readable.from(source, { objectMode: false, highWaterMark: gunzipChunkBytes });
  // Large output chunks: each chunk is one thread-pool round trip and one pass through the
  // consumers' async iterators; zlib's default 16 KiB made those dominate unpacking.
  // A readable buffer of several chunks lets inflation run ahead on a pool thread while the
  // main thread writes files.
  const inflate = createGunzip({ chunkSize: gunzipChunkBytes, readableHighWaterMark: 4 * gunzipChunkBytes } as ZlibOptions);
  input.on('error', (err) => inflate.destroy(err));
  input.pipe(inflate);
  try {
    for await (const chunk of inflate) yield chunk as Buffer;
  } finally {
    input.destroy();
    inflate.destroy();
  }
}

async function* unzstd(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let output: Buffer[] = [];
  // fzstd may hand out views of its window buffer, which it reuses: copy before keeping.
  const decoder = new Decompress((data) => {
    if (data.length) output.push(Buffer.from(data));
  });
  for await (const chunk of source) {
    decoder.push(chunk);
    if (output.length) {
      const ready = output;
      output = [];
      yield* ready;
    }
  }
  decoder.push(new Uint8Array(0), true);
  yield* output;
}

/** Decompresses `source` according to its magic bytes; reports what it found through `onDetect`. */
export async function* decompressStream(source: AsyncIterable<Buffer | Uint8Array | string>, onDetect?: (compression: Compression) => void): AsyncGenerator<Buffer> {
  const { head, stream } = await peekStream(source, 4);
  const compression = sniffCompression(head);
  onDetect?.(compression);
  if (compression === 'gzip') yield* gunzip(stream);
  else if (compression === 'zstd') yield* unzstd(stream);
  else yield* stream;
}
