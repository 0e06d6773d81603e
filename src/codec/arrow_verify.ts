/**
 * @module
 * Verifies an Arrow IPC body before apache-arrow reads it. apache-arrow trusts
 * every length it finds: a flipped bit in a message length or a flatbuffer
 * vector length makes `tableFromIPC` loop for minutes or exhaust the heap
 * (both seen). So here, with bounds checks on every read:
 * - a stream's messages follow each other inside the body, the first being
 *   the Schema, the rest DictionaryBatch or RecordBatch (apache-arrow reads
 *   them in order);
 * - a file (`ARROW1` … `ARROW1`) must have its footer, whose schema and
 *   blocks are checked, and each block's message (apache-arrow reads a file
 *   through its footer; its own writer puts the schema only there);
 * - each message's flatbuffer tables, strings and vectors lie inside its
 *   metadata (fields nested at most 64 deep, at most 10,000 in all);
 * - each RecordBatch buffer lies inside its message body, and its view-type
 *   columns claim no more buffers than it has;
 * - a compressed batch names a known codec (LZ4_FRAME, ZSTD), each of its
 *   buffers starts with a sane uncompressed length, and those lengths add up
 *   to at most the caller's limit over the whole body (arrow_compression.ts
 *   decompresses into exactly those lengths).
 * What this cannot see (values flipped inside buffers) reads as other values.
 */
import { BadInput, PayloadTooLarge } from "../errors.ts";

const MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]; // "ARROW1"
const HEADER_SCHEMA = 1;
const HEADER_DICTIONARY_BATCH = 2;
const HEADER_RECORD_BATCH = 3;
const CODEC_NAMES = ["LZ4_FRAME", "ZSTD"];
const TYPE_TIMESTAMP = 10;
const TYPE_UNION = 14;
const MAX_DEPTH = 64;
const MAX_FIELDS = 10_000;

/** How many bytes the compressed buffers of one body may expand to, and how many they have so far. */
interface Expansion {
  limit: number;
  total: number;
}

/**
 * Verifies `body` (Arrow IPC file or stream); throws BadInput naming the first
 * problem, or PayloadTooLarge when its compressed buffers would expand to more
 * than `maxUncompressedBytes` in all.
 */
export function verifyArrowBody(body: Uint8Array, maxUncompressedBytes = Number.MAX_SAFE_INTEGER): void {
  const expansion = { limit: maxUncompressedBytes, total: 0 };
  if (hasMagic(body, 0)) verifyFile(body, expansion);
  else verifyMessages(body, "stream", expansion);
}

function verifyFile(body: Uint8Array, expansion: Expansion): void {
  const end = body.length;
  if (end < 18 || !hasMagic(body, end - 6)) {
    throw invalid("truncated Arrow file: it ends before its footer and closing ARROW1 magic");
  }
  const footerLength = new DataView(body.buffer, body.byteOffset, end).getInt32(end - 10, true);
  const footerStart = end - 10 - footerLength;
  if (footerLength <= 0 || footerStart < 8) {
    throw invalid(`corrupt Arrow file: footer length ${footerLength} does not fit in ${end} bytes`);
  }
  const fb = new Flatbuffer(body.subarray(footerStart, end - 10), () => `corrupt Arrow file footer`);
  const footer = fb.root();
  const schema = fb.table(footer, 1);
  if (schema === undefined) throw fb.fail("no schema");
  verifySchema(fb, schema);
  for (const index of [2, 3]) { // dictionaries, recordBatches: Block {offset: long, metaDataLength: int, bodyLength: long}
    const blocks = fb.vector(footer, index, 24);
    for (let i = 0; i < (blocks?.length ?? 0); i++) {
      const at = blocks!.start + 24 * i;
      const offset = Number(fb.view.getBigInt64(at, true));
      const size = fb.view.getInt32(at + 8, true) + Number(fb.view.getBigInt64(at + 16, true));
      if (!(offset >= 8 && size > 0 && offset + size <= footerStart)) {
        throw fb.fail(`block ${i} lies outside the file`);
      }
      verifyMessages(body.subarray(offset, offset + size), "block", expansion, offset);
    }
  }
}

/** Verifies consecutive messages: a whole stream (schema first) or one file block. */
function verifyMessages(bytes: Uint8Array, kind: "stream" | "block", expansion: Expansion, base = 0): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length;
  let pos = 0;
  let messages = 0;
  while (pos < end) {
    if (pos + 4 > end) throw invalid(`truncated Arrow ${kind}: ${end - pos} stray bytes at byte ${base + pos}`);
    let length = view.getInt32(pos, true);
    pos += 4;
    if (length === -1) {
      if (pos + 4 > end) throw invalid(`truncated Arrow ${kind}: message length missing at byte ${base + pos}`);
      length = view.getInt32(pos, true);
      pos += 4;
    }
    if (length === 0) break; // end-of-stream marker
    if (length < 0 || pos + length > end) {
      throw invalid(
        `corrupt or truncated Arrow ${kind}: message at byte ${base + pos} claims ${length} bytes of metadata`,
      );
    }
    const at = base + pos;
    const message = new Flatbuffer(bytes.subarray(pos, pos + length), () => `corrupt Arrow message at byte ${at}`);
    pos += length;
    const { bodyLength, compressed } = verifyMessage(message, kind === "stream" && messages === 0);
    if (pos + bodyLength > end) {
      throw invalid(`truncated Arrow ${kind}: message body at byte ${base + pos} claims ${bodyLength} bytes`);
    }
    if (compressed) verifyCompressedBuffers(view, pos, compressed, base, expansion);
    pos += bodyLength;
    messages++;
    if (kind === "block") return;
  }
  if (messages === 0) throw invalid(kind === "stream" ? "the Arrow body holds no schema" : "empty Arrow file block");
}

/** Where a compressed batch's buffers lie in its body, and its codec's name. */
interface CompressedBuffers {
  codec: string;
  /** [offset, length] of each buffer within the message body. */
  buffers: [number, number][];
}

/** Verifies one Message table; returns its body length and, for a compressed batch, its buffers. */
function verifyMessage(fb: Flatbuffer, first: boolean): { bodyLength: number; compressed?: CompressedBuffers } {
  const message = fb.root();
  const headerType = fb.u8(message, 1);
  const bodyLength = fb.i64(message, 3);
  if (bodyLength < 0) throw fb.fail("negative body length");
  fb.keyValues(message, 4);
  if (first && headerType !== HEADER_SCHEMA) throw fb.fail("the first message is not a schema");
  const header = fb.table(message, 2);
  if (header === undefined) throw fb.fail("message has no header");
  let compressed: CompressedBuffers | undefined;
  if (headerType === HEADER_SCHEMA) {
    verifySchema(fb, header);
  } else if (headerType === HEADER_RECORD_BATCH) {
    compressed = verifyRecordBatch(fb, header, bodyLength);
  } else if (headerType === HEADER_DICTIONARY_BATCH) {
    const data = fb.table(header, 1);
    if (data !== undefined) compressed = verifyRecordBatch(fb, data, bodyLength);
  } else {
    throw fb.fail(`unsupported message type ${headerType}`);
  }
  return { bodyLength, compressed };
}

function verifySchema(fb: Flatbuffer, schema: number): void {
  const budget = { fields: 0 };
  for (const field of fb.tables(schema, 1)) verifyField(fb, field, 0, budget);
  fb.keyValues(schema, 2);
  fb.vector(schema, 3, 8);
}

function verifyField(fb: Flatbuffer, field: number, depth: number, budget: { fields: number }): void {
  if (depth > MAX_DEPTH || ++budget.fields > MAX_FIELDS) throw fb.fail("schema nests too deep or has too many fields");
  fb.vector(field, 0, 1); // name
  const typeType = fb.u8(field, 2);
  const type = fb.table(field, 3);
  if (type !== undefined && typeType === TYPE_TIMESTAMP) fb.vector(type, 1, 1);
  if (type !== undefined && typeType === TYPE_UNION) fb.vector(type, 1, 4);
  const dictionary = fb.table(field, 4);
  if (dictionary !== undefined) fb.table(dictionary, 1);
  for (const child of fb.tables(field, 5)) verifyField(fb, child, depth + 1, budget);
  fb.keyValues(field, 6);
}

function verifyRecordBatch(
  fb: Flatbuffer,
  batch: number,
  bodyLength: number,
): CompressedBuffers | undefined {
  fb.vector(batch, 1, 16); // FieldNode structs
  const buffers = fb.vector(batch, 2, 16);
  const regions: [number, number][] = [];
  if (buffers) {
    for (let i = 0; i < buffers.length; i++) {
      const offset = fb.view.getBigInt64(buffers.start + 16 * i, true);
      const length = fb.view.getBigInt64(buffers.start + 16 * i + 8, true);
      if (offset < 0n || length < 0n || offset + length > BigInt(bodyLength)) {
        throw fb.fail(`buffer ${i} (${offset}+${length}) lies outside the ${bodyLength}-byte body`);
      }
      regions.push([Number(offset), Number(length)]);
    }
  }
  const compression = fb.table(batch, 3); // BodyCompression {codec: byte, method: byte}
  // variadicBufferCounts: how many of the buffers each view-type column (Utf8View, BinaryView) takes.
  const variadic = fb.vector(batch, 4, 8);
  let taken = 0n;
  for (let i = 0; i < (variadic?.length ?? 0); i++) {
    const count = fb.view.getBigInt64(variadic!.start + 8 * i, true);
    taken += count;
    if (count < 0n || taken > BigInt(regions.length)) {
      throw fb.fail(`variadic buffer count ${count} exceeds the ${regions.length} buffers of the batch`);
    }
  }
  if (compression === undefined) return undefined;
  const codec = CODEC_NAMES[fb.u8(compression, 0)];
  if (codec === undefined) throw fb.fail(`unknown compression codec ${fb.u8(compression, 0)}`);
  if (fb.u8(compression, 1) !== 0) throw fb.fail(`unknown body compression method ${fb.u8(compression, 1)}`);
  return { codec, buffers: regions };
}

/**
 * Each non-empty buffer of a compressed batch is an int64 uncompressed length
 * (-1: stored as is) and the compressed bytes; the lengths count against the body's limit.
 */
function verifyCompressedBuffers(
  view: DataView,
  bodyStart: number,
  { codec, buffers }: CompressedBuffers,
  base: number,
  expansion: Expansion,
): void {
  for (const [offset, length] of buffers) {
    if (length === 0) continue;
    const at = bodyStart + offset;
    if (length < 8) throw invalid(`corrupt ${codec} Arrow buffer at byte ${base + at}: ${length} bytes`);
    const declared = view.getBigInt64(at, true);
    if (declared < -1n) {
      throw invalid(`corrupt ${codec} Arrow buffer at byte ${base + at}: uncompressed length ${declared}`);
    }
    expansion.total += declared === -1n ? length - 8 : Number(declared);
    if (expansion.total > expansion.limit) {
      throw new PayloadTooLarge(
        `the Arrow body's ${codec}-compressed buffers expand to more than the limit of ${expansion.limit} bytes`,
      );
    }
  }
}

/** Bounds-checked reads of one flatbuffer. Positions are byte offsets into it. */
class Flatbuffer {
  readonly view: DataView;
  readonly #bytes: Uint8Array;
  readonly #where: () => string;

  constructor(bytes: Uint8Array, where: () => string) {
    this.#bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#where = where;
  }

  fail(reason = "metadata out of bounds"): BadInput {
    return invalid(`${this.#where()}: ${reason}`);
  }

  #check(pos: number, size: number): void {
    if (!(pos >= 0 && pos + size <= this.#bytes.length)) throw this.fail();
  }

  /** The root table. */
  root(): number {
    this.#check(0, 4);
    return this.#tableAt(this.view.getUint32(0, true));
  }

  #tableAt(pos: number): number {
    this.#check(pos, 4);
    const vtable = pos - this.view.getInt32(pos, true);
    this.#check(vtable, 4);
    const vtableSize = this.view.getUint16(vtable, true);
    const tableSize = this.view.getUint16(vtable + 2, true);
    if (vtableSize < 4 || vtableSize % 2 !== 0) throw this.fail();
    this.#check(vtable, vtableSize);
    this.#check(pos, tableSize);
    return pos;
  }

  /** Absolute position of field `index` of `table`, or undefined when absent. */
  #field(table: number, index: number, size: number): number | undefined {
    const vtable = table - this.view.getInt32(table, true);
    const slot = 4 + 2 * index;
    if (slot + 2 > this.view.getUint16(vtable, true)) return undefined;
    const offset = this.view.getUint16(vtable + slot, true);
    if (offset === 0) return undefined;
    this.#check(table + offset, size);
    return table + offset;
  }

  #target(table: number, index: number): number | undefined {
    const at = this.#field(table, index, 4);
    return at === undefined ? undefined : at + this.view.getUint32(at, true);
  }

  u8(table: number, index: number): number {
    const at = this.#field(table, index, 1);
    return at === undefined ? 0 : this.view.getUint8(at);
  }

  i64(table: number, index: number): number {
    const at = this.#field(table, index, 8);
    if (at === undefined) return 0;
    const v = this.view.getBigInt64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw this.fail("length too large");
    return Number(v);
  }

  table(table: number, index: number): number | undefined {
    const at = this.#target(table, index);
    return at === undefined ? undefined : this.#tableAt(at);
  }

  /** Start and length of a vector (or string) whose elements are `size` bytes. */
  vector(table: number, index: number, size: number): { start: number; length: number } | undefined {
    const at = this.#target(table, index);
    if (at === undefined) return undefined;
    this.#check(at, 4);
    const length = this.view.getUint32(at, true);
    this.#check(at + 4, length * size);
    return { start: at + 4, length };
  }

  /** The tables of a vector of tables. */
  tables(table: number, index: number): number[] {
    const v = this.vector(table, index, 4);
    if (!v) return [];
    return Array.from({ length: v.length }, (_, i) => {
      const at = v.start + 4 * i;
      return this.#tableAt(at + this.view.getUint32(at, true));
    });
  }

  /** A vector of KeyValue {key, value} string tables. */
  keyValues(table: number, index: number): void {
    for (const kv of this.tables(table, index)) {
      this.vector(kv, 0, 1);
      this.vector(kv, 1, 1);
    }
  }
}

/** True when `bytes` hold the Arrow file magic `ARROW1` at `at`. */
export function hasMagic(bytes: Uint8Array, at: number): boolean {
  return MAGIC.every((b, i) => bytes[at + i] === b);
}

function invalid(message: string): BadInput {
  return new BadInput(message, "invalid_arrow");
}
