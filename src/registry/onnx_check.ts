/**
 * @module
 * Whether bytes can be an ONNX model, checked without a runtime at `tern publish` (a wrong file would otherwise only
 * fail on every edge that pulls it): an ONNX model is a protobuf ModelProto, so its top level must read as protobuf
 * fields to its last byte and hold a graph (field 7). This reads only field keys and lengths, never the graph.
 */

/** Why `bytes` cannot be an ONNX model, or undefined when they can. */
export function notOnnx(bytes: Uint8Array): string | undefined {
  let at = 0;
  let graph = false;
  const varint = (): number | undefined => {
    let value = 0;
    for (let shift = 0; shift < 64 && at < bytes.length; shift += 7) {
      const b = bytes[at++];
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
    }
    return undefined;
  };
  if (bytes.length === 0) return "the file is empty";
  while (at < bytes.length) {
    const start = at;
    const key = varint();
    if (key === undefined) return `no protobuf field key at byte ${start}`;
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0) return `a protobuf field numbered 0 at byte ${start}`;
    if (wire === 0) {
      if (varint() === undefined) return `a truncated number at byte ${start}`;
    } else if (wire === 1 || wire === 5) {
      at += wire === 1 ? 8 : 4;
    } else if (wire === 2) {
      const length = varint();
      if (length === undefined || at + length > bytes.length) return `a field longer than the file at byte ${start}`;
      if (field === 7) graph = true;
      at += length;
    } else {
      return `protobuf wire type ${wire} at byte ${start}`;
    }
  }
  if (at !== bytes.length) return "the last field runs past the end of the file";
  return graph ? undefined : "no graph (ModelProto field 7)";
}
