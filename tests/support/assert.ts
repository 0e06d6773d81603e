/**
 * @module
 * The assertions tests use, from `node:assert` (JSR's @std/assert is not
 * reachable from these machines), under the names Deno users know.
 */
import { strict } from "node:assert";

/** Fails unless `value` is truthy. */
export function assert(value: unknown, message?: string): asserts value {
  strict.ok(value, message);
}
/** Fails unless `actual` deep-equals `expected` (strict). */
export const assertEquals: <T>(actual: unknown, expected: T, message?: string) => asserts actual is T =
  strict.deepStrictEqual;
/** Fails unless `text` matches `pattern`. */
export const assertMatch: (text: string, pattern: RegExp, message?: string) => void = strict.match;
/** Fails unless `text` contains `part`. */
export function assertStringIncludes(text: string, part: string, message?: string): void {
  strict.ok(text.includes(part), message ?? `expected to find ${JSON.stringify(part)} in:\n${text}`);
}
/** Fails unless `fn` throws (or rejects with) an error matching `expected`. */
export async function assertRejects(fn: () => unknown, expected: RegExp | (new (...a: never[]) => Error)) {
  await strict.rejects(async () => await fn(), expected as RegExp);
}
/** Fails unless `fn` throws synchronously with an error matching `expected`. */
export const assertThrows: (fn: () => unknown, expected: RegExp | object) => void = strict.throws;
