/**
 * @module
 * A/B splits: which variant of a step serves a request. Without a key, a
 * weighted random draw per request. With a key (a request field), the first
 * row's value of that field, as text, is hashed (32-bit FNV-1a of its UTF-8
 * bytes) and the hash modulo the total weight picks the variant, so one key
 * always gets the same variant while the weights stay the same. A V2 request
 * carries a field that is no model input in its `parameters`. A request
 * without the field is served by the first variant. The whole request goes to
 * one variant.
 */
import type { DecodedInput } from "../codec/decoded_input.ts";

/** 32-bit FNV-1a of `text`'s UTF-8 bytes. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(text)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Index of the variant `point` (0 ≤ point < total weight) falls in. */
export function pickByWeight(weights: readonly number[], point: number): number {
  let at = 0;
  for (let i = 0; i < weights.length; i++) {
    at += weights[i];
    if (point < at) return i;
  }
  return weights.length - 1;
}

/** The variant index for a request: keyed on `key` when given, else a weighted draw with `random`. */
export function chooseVariant(
  weights: readonly number[],
  key: string | undefined,
  input: DecodedInput,
  random: () => number,
): number {
  if (weights.length === 1) return 0;
  const total = weights.reduce((a, b) => a + b, 0);
  if (key === undefined) return pickByWeight(weights, Math.floor(random() * total));
  const value = keyText(input, key);
  return value === undefined ? 0 : pickByWeight(weights, fnv1a(value) % total);
}

/**
 * The first row's value of `field` as text: a string as it is, anything else as its JSON text (numbers as
 * JavaScript writes them; Arrow int64 as digits); undefined when the request has no such field or it is null.
 */
export function keyText(input: DecodedInput, field: string): string | undefined {
  const sent = input.sent;
  let value: unknown;
  if (sent && "table" in sent) {
    value = sent.table.getChild(field)?.get(0);
  } else if (sent) {
    value = sent.records[0]?.[field];
  } else if (Object.hasOwn(input.tensors, field)) {
    value = input.tensors[field].data[0];
  } else if (input.parameters && Object.hasOwn(input.parameters, field)) {
    value = input.parameters[field];
  }
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "object" && typeof (value as { toJSON?: unknown }).toJSON === "function") {
    return JSON.stringify(value);
  }
  return JSON.stringify(value, (_, v) => typeof v === "bigint" ? v.toString() : v);
}
