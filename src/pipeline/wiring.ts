/**
 * @module
 * How a pipeline's steps meet, checked once at load: every input of a step's
 * models (each A/B variant and each shadow) is fed by name from the outputs
 * of the step before it (from every variant of it), or from the name the
 * step's `inputs` mapping gives. A name that is not there, or a dtype or
 * fixed row shape that differs, is a PipelineLoadError naming both sides;
 * nothing is ever matched by position. The first step reads the request's
 * columns: the names that feed it are what the request decoder looks for.
 */
import { PipelineLoadError } from "../errors.ts";
import { describeSpec, type TensorSpec } from "../engine/tensor.ts";
import type { LoadedModel, LoadedStep, WiredModel } from "./loaded.ts";
import type { StepDefinition } from "./spec.ts";

/** The steps wired, and the first step's inputs under the request column names that feed them. */
export interface Wiring {
  steps: LoadedStep[];
  inputs: TensorSpec[];
}

/** Wires `steps`, whose models `model(name)` returns loaded. */
export function wireSteps(steps: readonly StepDefinition[], model: (name: string) => LoadedModel): Wiring {
  const requestColumns = new Map<string, { spec: TensorSpec; reader: string }>();
  const wired: LoadedStep[] = [];
  steps.forEach((step, k) => {
    const mapping = step.inputs ?? {};
    const consumers = [...step.variants.map((v) => v.model.name), ...(step.shadows ?? []).map((m) => m.name)];
    const where = (name: string) => `step ${k} (model ${name})`;
    for (const input of Object.keys(mapping)) {
      if (!consumers.some((name) => model(name).session.inputs.some((i) => i.name === input))) {
        throw new PipelineLoadError(
          `step ${k}: the inputs mapping names input '${input}', which no model of the step has (${
            consumers.map((name) => `${name}: ${names(model(name).session.inputs)}`).join("; ")
          })`,
        );
      }
    }
    const wire = (name: string): WiredModel => {
      const m = model(name);
      const feeds: Record<string, string> = {};
      for (const input of m.session.inputs) {
        const source = mapping[input.name] ?? input.name;
        feeds[input.name] = source;
        const fed = `${where(name)} input '${input.name}' (${describeSpec(input)})`;
        if (k === 0) {
          const seen = requestColumns.get(source);
          if (seen && !sameKind(seen.spec, input)) {
            throw new PipelineLoadError(
              `${fed} and ${seen.reader} both read request column '${source}', as different tensors`,
            );
          }
          if (!seen) requestColumns.set(source, { spec: { ...input, name: source }, reader: fed });
          continue;
        }
        for (const before of steps[k - 1].variants) {
          const producer = model(before.model.name);
          const output = producer.session.outputs.find((o) => o.name === source);
          const from = `step ${k - 1} (model ${producer.name})`;
          if (!output) {
            throw new PipelineLoadError(
              `${fed} is fed from '${source}'${
                mapping[input.name] ? " (the step's inputs mapping)" : ""
              }, which ${from} does not output (its outputs: ${names(producer.session.outputs)})${
                mapping[input.name] ? "" : `; map it: "inputs": {"${input.name}": "<output of step ${k - 1}>"}`
              }`,
            );
          }
          if (!sameKind(output, input)) {
            throw new PipelineLoadError(
              `${fed} cannot take ${from} output '${output.name}' (${describeSpec(output)}): ${
                output.type !== input.type ? "the dtypes differ" : "the shapes of a row differ"
              }`,
            );
          }
        }
      }
      return { model: m, feeds };
    };
    wired.push({
      variants: step.variants.map((v) => wire(v.model.name)),
      weights: step.variants.map((v) => v.weight),
      splitKey: step.splitKey,
      shadows: (step.shadows ?? []).map((m) => ({ ...wire(m.name), inflight: 0 })),
    });
  });
  return { steps: wired, inputs: [...requestColumns.values()].map((c) => c.spec) };
}

/** Same dtype and, where both fix it, the same row shape (rank included). */
function sameKind(a: TensorSpec, b: TensorSpec): boolean {
  if (a.type !== b.type) return false;
  const fixed = (s: TensorSpec) => s.shape.length > 0 && s.shape.slice(1).every((d) => typeof d === "number" && d >= 0);
  if (!fixed(a) || !fixed(b)) return true;
  const ra = a.shape.slice(1);
  const rb = b.shape.slice(1);
  return ra.length === rb.length && ra.every((d, i) => d === rb[i]);
}

function names(specs: readonly TensorSpec[]): string {
  return specs.length ? specs.map((s) => `'${s.name}' ${describeSpec(s)}`).join(", ") : "none";
}
