/**
 * @module
 * A served request's tensors as the log stores them: one binary value, written
 * on the serving thread with one copy per tensor (no per-element text), read
 * back into the same tensors when `/logs` or the Ops uploader asks for rows.
 *
 * Layout: a u32 (little-endian) length, the JSON header of that length (with
 * trailing spaces that start the tensors on an 8-byte boundary; payloads
 * written before 2026-12-01 have none), then each numeric tensor's bytes in
 * header order, back to back (the reader views a tensor in place where it lies
 * aligned for its type, else copies it out). String tensors travel in the header. An
 * input left out (`null`: too large for any log row, see entry.ts) is its name
 * alone in the header, with no data.
 *
 * @example
 * const bytes = encodePayload({ inputs, outputs, shadows: [], checks: undefined });
 * const same = decodePayload(bytes, rows);
 */
import type { CheckResults } from "../pipeline/checks.ts";
import { type DType, elementCount, type HostTensor, TYPED_ARRAY } from "../engine/tensor.ts";

/** The tensors of one request's log record. A `null` input was left out for size. */
export interface PayloadTensors {
  inputs: readonly [string, HostTensor | null][];
  outputs: readonly [string, HostTensor][];
  shadows: readonly { model: string; outputs: readonly [string, HostTensor][] }[];
  checks?: CheckResults;
}

/** A tensor in the header: name, dtype, dims, and its values when they are strings. */
type TensorHead = [name: string, type: DType, dims: number[], strings?: string[]];

interface Header {
  /** Inputs; an input left out is `[name]`. */
  i: (TensorHead | [string])[];
  o: TensorHead[];
  /** Shadows' outputs; absent without shadows. */
  s?: [model: string, outputs: TensorHead[]][];
  /** Validation names; their flags (rows × names bytes) follow the tensors. */
  c?: readonly string[];
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** The bytes of a numeric tensor's data (a view, not a copy). */
function bytesOf(t: HostTensor): Uint8Array {
  const d = t.data as Exclude<HostTensor["data"], string[]>;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** True when every character of `text` is ASCII (one UTF-8 byte each). */
function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** Encodes `tensors` into one value for the log. */
export function encodePayload(tensors: PayloadTensors): Uint8Array {
  const parts: Uint8Array[] = [];
  const head = (name: string, t: HostTensor): TensorHead => {
    if (t.type === "string") return [name, t.type, t.dims, t.data as string[]];
    parts.push(bytesOf(t));
    return [name, t.type, t.dims];
  };
  const header: Header = {
    i: tensors.inputs.map(([name, t]) => t ? head(name, t) : [name]),
    o: tensors.outputs.map(([name, t]) => head(name, t)),
  };
  if (tensors.shadows.length > 0) {
    header.s = tensors.shadows.map((s) => [s.model, s.outputs.map(([name, t]) => head(name, t))]);
  }
  if (tensors.checks) {
    header.c = tensors.checks.names;
    parts.push(tensors.checks.flags);
  }
  const text = JSON.stringify(header);
  // A short ASCII header (the usual one) is copied in as it is: encoding it, and a DataView for the length, were two
  // more allocations, about 2.5 µs of a 1-row record's 6 µs here. (A long one, strings, is encoded natively.)
  const ascii = text.length <= 512 && isAscii(text);
  const encoded = ascii ? undefined : utf8.encode(text);
  const textBytes = encoded ? encoded.length : text.length;
  // Spaces after the header start the tensors on an 8-byte boundary, where a reader can view them in place.
  const headerLength = textBytes + (7 - ((textBytes + 3) & 7));
  let size = 4 + headerLength;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  out[0] = headerLength & 0xff;
  out[1] = (headerLength >>> 8) & 0xff;
  out[2] = (headerLength >>> 16) & 0xff;
  out[3] = headerLength >>> 24;
  if (encoded) out.set(encoded, 4);
  else for (let i = 0; i < textBytes; i++) out[4 + i] = text.charCodeAt(i);
  out.fill(0x20, 4 + textBytes, 4 + headerLength);
  let at = 4 + headerLength;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The last header decoded, by its text: consecutive records of one pipeline share it. */
let lastHeader: { text: string; header: Header } | undefined;

/**
 * Decodes what encodePayload wrote for `rows` rows. A tensor's data is a view of `bytes` where it lies aligned
 * for its type, else a copy of its own; the tensors of records with the same header share their header's
 * arrays (dims, names): read them, never change them.
 */
export function decodePayload(bytes: Uint8Array, rows: number): PayloadTensors {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(0, true);
  const text = fromUtf8.decode(bytes.subarray(4, 4 + headerLength));
  if (lastHeader?.text !== text) lastHeader = { text, header: JSON.parse(text) as Header };
  const header = lastHeader.header;
  let at = 4 + headerLength;
  const take = (length: number) => {
    if (at + length > bytes.length) throw new Error("log payload is shorter than its header says");
    at += length;
    return at - length;
  };
  const tensor = ([name, type, dims, strings]: TensorHead): [string, HostTensor] => {
    if (type === "string") return [name, { type, dims, data: strings ?? [] }];
    const Typed = TYPED_ARRAY[type];
    const count = elementCount(dims);
    const start = bytes.byteOffset + take(count * Typed.BYTES_PER_ELEMENT);
    const data = start % Typed.BYTES_PER_ELEMENT === 0
      ? new Typed(bytes.buffer as ArrayBuffer, start, count)
      : new Typed((bytes.buffer as ArrayBuffer).slice(start, start + count * Typed.BYTES_PER_ELEMENT));
    return [name, { type, dims, data }];
  };
  const inputs = header.i.map((h): [string, HostTensor | null] => h.length === 1 ? [h[0], null] : tensor(h));
  const outputs = header.o.map(tensor);
  const shadows = (header.s ?? []).map(([model, outs]) => ({ model, outputs: outs.map(tensor) }));
  if (!header.c) return { inputs, outputs, shadows };
  const flagsAt = take(rows * header.c.length);
  return { inputs, outputs, shadows, checks: { names: header.c, flags: bytes.subarray(flagsAt, at) } };
}
