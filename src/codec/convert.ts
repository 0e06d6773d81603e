/**
 * @module
 * Element conversions into a model input's dtype, shared by the JSON and
 * Arrow decoders. The rules (documented in docs/api.md#dtypes):
 * - floats take any number; JSON `null` and Arrow nulls become NaN;
 * - integers take numbers that are whole and within the type's range;
 * - bool takes true/false or 0/1;
 * - string takes strings only.
 * A value that does not fit is a BadInput naming where it was found.
 */
import { BadInput } from "../errors.ts";
import type { DType, HostTensor } from "../engine/tensor.ts";

const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 4294967295],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

/** Writes one decoded value into `data[index]`; `where` describes its place for errors. */
export type ElementWriter = (
  data: HostTensor["data"],
  index: number,
  value: unknown,
  where: () => string,
) => void;

/** Returns the writer that converts loose values (JSON, Arrow slow path) into `type`. */
export function elementWriter(type: DType): ElementWriter {
  switch (type) {
    case "float32":
    case "float64":
      return (data, i, v, where) => {
        if (typeof v === "number") (data as Float64Array)[i] = v;
        else if (v === null || v === undefined) (data as Float64Array)[i] = NaN;
        else if (typeof v === "bigint") (data as Float64Array)[i] = Number(v);
        else throw mismatch(type, v, where);
      };
    case "float16":
      return (data, i, v, where) => {
        if (typeof v === "number" || typeof v === "bigint") (data as Uint16Array)[i] = toHalfBits(Number(v));
        else if (v === null || v === undefined) {
          (data as Uint16Array)[i] = 0x7e00;
        } else throw mismatch(type, v, where);
      };
    case "int64":
    case "uint64":
      return (data, i, v, where) => {
        (data as BigInt64Array)[i] = typeof v === "bigint"
          ? checkBigInt(type, v, where)
          : BigInt(checkInt(type, v, where));
      };
    case "bool":
      return (data, i, v, where) => {
        if (v === true || v === 1 || v === 1n) (data as Uint8Array)[i] = 1;
        else if (v === false || v === 0 || v === 0n) (data as Uint8Array)[i] = 0;
        else throw mismatch(type, v, where);
      };
    case "string":
      return (data, i, v, where) => {
        if (typeof v !== "string") throw mismatch(type, v, where);
        (data as string[])[i] = v;
      };
    default:
      return (data, i, v, where) => {
        (data as Int32Array)[i] = checkInt(type, v, where);
      };
  }
}

/**
 * Copies `count` numeric elements from an Arrow value buffer (`src`, Arrow type
 * `srcType` as a DType) into `dst` at `dstOffset`, converting to `dstType`.
 * Same-type copies are one `set`; others check each value.
 */
export function copyNumeric(
  src: HostTensor["data"],
  srcOffset: number,
  srcType: DType,
  dst: HostTensor["data"],
  dstOffset: number,
  dstType: DType,
  count: number,
  where: (element: number) => string,
): void {
  if (srcType === dstType || (isWideFloat(srcType) && isWideFloat(dstType))) {
    (dst as Float32Array).set(
      (src as Float32Array).subarray(srcOffset, srcOffset + count),
      dstOffset,
    );
    return;
  }
  const write = elementWriter(dstType);
  for (let k = 0; k < count; k++) {
    const raw = src[srcOffset + k];
    const v = srcType === "float16" ? fromHalfBits(raw as number) : raw;
    write(dst, dstOffset + k, v, () => where(k));
  }
}

function isWideFloat(t: DType): boolean {
  return t === "float32" || t === "float64";
}

function checkInt(type: DType, v: unknown, where: () => string): number {
  if (typeof v === "bigint") v = Number(v);
  if (typeof v === "boolean") v = v ? 1 : 0;
  if (typeof v !== "number") throw mismatch(type, v, where);
  const [lo, hi] = INT_RANGE[type] ?? [-Infinity, Infinity];
  if (!Number.isInteger(v) || v < lo || v > hi) {
    throw new BadInput(
      `${where()}: ${v} is not a whole number in ${type}'s range [${lo}, ${hi}]`,
      "wrong_dtype",
    );
  }
  return v;
}

function checkBigInt(type: DType, v: bigint, where: () => string): bigint {
  const ok = type === "uint64" ? v >= 0n && v < 1n << 64n : v >= -(1n << 63n) && v < 1n << 63n;
  if (!ok) {
    throw new BadInput(
      `${where()}: ${v} is out of ${type}'s range`,
      "wrong_dtype",
    );
  }
  return v;
}

function mismatch(type: DType, v: unknown, where: () => string): BadInput {
  const want = type === "string" ? "a string" : type === "bool" ? "true/false" : "a number";
  const got = v === null ? "null" : Array.isArray(v) ? "a list" : typeof v;
  const shown = typeof v === "string" ? ` ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)}` : "";
  return new BadInput(
    `${where()}: expected ${want} for ${type}, got ${got}${shown}`,
    "wrong_dtype",
  );
}

const half = new Float16Array(1);
const halfBits = new Uint16Array(half.buffer);

/** IEEE 754 half-precision bits of `v` (correctly rounded, by Float16Array). */
export function toHalfBits(v: number): number {
  half[0] = v;
  return halfBits[0];
}

/** The number that half-precision bits `h` encode. */
export function fromHalfBits(h: number): number {
  halfBits[0] = h;
  return half[0];
}
