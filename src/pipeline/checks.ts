/**
 * @module
 * A pipeline's validations, compiled once at load against its last step's
 * outputs and first step's inputs, and run on every row of every reply: the
 * names of the checks a row fails fill its `check_failures`, their count its
 * log row's `anomaly.count`, and each check its `anomaly.<name>` column.
 */
import { PipelineLoadError } from "../errors.ts";
import type { HostTensor, TensorSpec } from "../engine/tensor.ts";
import { type CompiledExpression, compileExpression, type NameInfo } from "./expression.ts";
import type { ValidationDefinition } from "./spec.ts";

/** A validation name: a letter or `_`, then letters, digits, `_` (it becomes the log column `anomaly.<name>`). */
export const VALIDATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Why `name` cannot name a validation, or undefined when it can. */
export function validationNameProblem(name: string): string | undefined {
  if (!VALIDATION_NAME.test(name)) return `validation name '${name}' must match ${VALIDATION_NAME.source}`;
  if (name === "count") return "validation name 'count' is taken: the log's anomaly.count counts failed checks";
  return undefined;
}

/** The results of a batch's validations. */
export interface CheckResults {
  /** Validation names, in the pipeline's order. */
  names: readonly string[];
  /** Row-major flags, `rows × names.length`: 1 where a row fails a check. */
  flags: Uint8Array;
}

/** The compiled validations of one pipeline. */
export interface Validations {
  readonly names: readonly string[];
  /** Runs every check on every row; `outputs` are the last step's, `inputs` the first step's. */
  run(outputs: Record<string, HostTensor>, inputs: Record<string, HostTensor>, rows: number): CheckResults;
}

/**
 * Compiles `validations` against what the pipeline has: `outputs` (each variant's outputs of the last step:
 * a name must be in all of them) and `inputs` (the first step's). Throws PipelineLoadError naming the validation.
 */
export function compileValidations(
  validations: readonly ValidationDefinition[],
  outputs: readonly (readonly TensorSpec[])[],
  inputs: readonly TensorSpec[],
): Validations | undefined {
  if (validations.length === 0) return undefined;
  const info = (spec: TensorSpec | undefined): NameInfo | undefined => {
    if (!spec) return undefined;
    const row = spec.shape.slice(1);
    // No shape at all is an unknown rank (as wiring.ts reads it), not one value per row.
    const fixed = spec.shape.length > 0 && row.every((d) => typeof d === "number" && d >= 0);
    return { type: spec.type, width: fixed ? (row as number[]).reduce((a, b) => a * b, 1) : undefined };
  };
  const describe = (i: NameInfo) => `${i.type}, ${i.width ?? "unknown"} per row`;
  const compiled: CompiledExpression[] = validations.map((v) => {
    const problem = validationNameProblem(v.name);
    if (problem) throw new PipelineLoadError(problem);
    try {
      return compileExpression(v.expression, (ref) => {
        if (ref.scope === "in") return info(inputs.find((s) => s.name === ref.name));
        const found = outputs.map((specs) => info(specs.find((s) => s.name === ref.name)));
        if (!found.every((s) => s !== undefined)) return undefined;
        // Each variant of a split last step must give it alike: the check is compiled once for all of them.
        const unlike = found.findIndex((s) =>
          (s.type === "bool") !== (found[0].type === "bool") ||
          (s.width !== undefined && found[0].width !== undefined && s.width !== found[0].width)
        );
        if (unlike > 0) {
          throw new Error(
            `out.${ref.name} is ${describe(found[0])} in the last step's first variant but ${
              describe(found[unlike])
            } in variant ${unlike + 1}: a validation needs it alike in every variant`,
          );
        }
        // A width one variant leaves open is checked per row when the check runs.
        return found.every((s) => s.width !== undefined) ? found[0] : { ...found[0], width: undefined };
      });
    } catch (err) {
      throw new PipelineLoadError(`validation '${v.name}': ${(err as Error).message}`);
    }
  });
  const names = validations.map((v) => v.name);
  return {
    names,
    run(outs, ins, rows) {
      const flags = new Uint8Array(rows * names.length);
      compiled.forEach((expression, k) => {
        const test = expression.bind((ref) => (ref.scope === "in" ? ins : outs)[ref.name], rows);
        for (let r = 0; r < rows; r++) {
          let failed: boolean;
          try {
            failed = test(r);
          } catch (err) {
            throw new Error(`validation '${names[k]}': ${(err as Error).message}`);
          }
          if (failed) flags[r * names.length + k] = 1;
        }
      });
      return { names, flags };
    },
  };
}

/** The names of the checks row `row` failed. */
export function failedChecks(results: CheckResults, row: number): string[] {
  const n = results.names.length;
  const out: string[] = [];
  for (let k = 0; k < n; k++) if (results.flags[row * n + k]) out.push(results.names[k]);
  return out;
}
