/**
 * @module
 * How one row of a column maps onto a model input. The first dim of every
 * model input is the batch (one entry per row); the rest is the per-row shape.
 * A row matches when its own shape equals that per-row shape after dropping
 * size-1 dims on both sides (so `[x0..x17]`, `[[x0..x17]]` and an 18-wide
 * fixed-size list all fill `[N,18]`); symbolic per-row dims take the first
 * row's size and every later row must agree.
 */
import { BadInput } from "../errors.ts";
import { describeSpec, elementCount, type TensorSpec } from "../engine/tensor.ts";

/** Per-row layout of one model input, resolved against the data. */
export class RowShape {
  readonly spec: TensorSpec;
  /** Per-row dims once known (symbolic dims resolved from the first row). */
  dims: number[] | undefined;
  /** Elements per row once known. */
  size = -1;
  readonly #declared: (number | string)[];

  constructor(spec: TensorSpec) {
    this.spec = spec;
    this.#declared = spec.shape.slice(1);
    if (this.#declared.every((d) => typeof d === "number" && d >= 0)) {
      this.dims = this.#declared as number[];
      this.size = elementCount(this.dims);
    }
  }

  /**
   * Checks one row's observed shape; resolves symbolic dims on the first row. `value`, the row itself, lets the error
   * name a row that is no list nor number (`null`, a string, an object).
   */
  accept(observed: readonly number[], row: number, column: string, value?: unknown): void {
    if (this.dims) {
      if (
        elementCount(observed) === this.size &&
        sameSqueezed(observed, this.dims)
      ) return;
      throw this.#mismatch(observed, row, column, value);
    }
    const resolved = unify(this.#declared, observed);
    if (!resolved) throw this.#mismatch(observed, row, column, value);
    this.dims = resolved;
    this.size = elementCount(resolved);
  }

  /** Tensor dims for `rows` rows. */
  tensorDims(rows: number): number[] {
    return [rows, ...(this.dims ?? [])];
  }

  #mismatch(
    observed: readonly number[],
    row: number,
    column: string,
    value: unknown,
  ): BadInput {
    const count = elementCount(observed);
    const sent = observed.length === 0 ? notANumber(value) : undefined;
    const perRow = this.dims ? `[${this.dims.join(",")}]` : `[${this.#declared.join(",")}]`;
    const got = sent ?? `${count} value${count === 1 ? "" : "s"} (shape [${observed.join(",")}])`;
    return new BadInput(
      `column '${column}', row ${row}: got ${got}; model input '${this.spec.name}' takes ${
        describeSpec(this.spec)
      }, i.e. ${perRow} per row`,
      "wrong_shape",
    );
  }
}

function squeeze(dims: readonly number[]): number[] {
  return dims.filter((d) => d !== 1);
}

function sameSqueezed(a: readonly number[], b: readonly number[]): boolean {
  const sa = squeeze(a);
  const sb = squeeze(b);
  return sa.length === sb.length && sa.every((d, i) => d === sb[i]);
}

/** Matches observed dims to declared ones with symbols, trying as-is then with size-1 dims dropped. */
function unify(declared: readonly (number | string)[], observed: readonly number[]): number[] | undefined {
  const attempt = (decl: readonly (number | string)[], obs: readonly number[]) => {
    if (obs.length !== decl.length) return undefined;
    const out: number[] = [];
    for (let i = 0; i < decl.length; i++) {
      const d = decl[i];
      if (typeof d === "number" && d >= 0 && d !== obs[i]) return undefined;
      out.push(obs[i]);
    }
    return out;
  };
  const direct = attempt(declared, observed) ?? attempt(declared, squeeze(observed));
  if (direct) return direct;
  // Drop the declared fixed 1s too, match, then put the 1s back: [N,"seq",1] takes a flat row.
  const symbolsAndSizes = declared.filter((d) => d !== 1);
  const matched = attempt(symbolsAndSizes, squeeze(observed));
  if (!matched) return undefined;
  let k = 0;
  return declared.map((d) => d === 1 ? 1 : matched[k++]);
}

/** What a row that is no list names in an error: `null`, a string or an object (undefined for a number). */
function notANumber(value: unknown): string | undefined {
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") {
    return `a string (${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)})`;
  }
  if (typeof value === "object") return "an object";
  return undefined;
}
