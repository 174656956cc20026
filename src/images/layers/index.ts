/** Layer tar streams: a streaming tar reader and writer, and the hardened layer unpacker. */
export { unpackLayer, isLayerMediaType, opaqueXattr } from './unpack.js';
export type { UnpackOptions } from './unpack.js';
export { ByteReader, readTar } from './tar-reader.js';
export type { TarStreamEntry } from './tar-reader.js';
export { writeTar, tarStream, encodeEntryHeader, directoryEntries } from './tar-writer.js';
export type { TarWriteEntry, DirectoryEntriesOptions } from './tar-writer.js';
export { TarFormatError, maxPaxHeaderBytes, maxPathBytes } from './tar-header.js';
export type { TarEntry, TarEntryType } from './tar-header.js';
export { decompressStream, peekStream, sniffCompression } from './decompress.js';
export type { Compression } from './decompress.js';
export { applyXattrs, readXattrsRecursive, haveSetfattr } from './xattrs.js';
export type { XattrRecord } from './xattrs.js';
