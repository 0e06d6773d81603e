/**
 * @module
 * The config blob of a pipeline artifact: the pipeline spec
 * (docs/pipeline-artifact.md). Steps in order, each naming its model (or the
 * weighted variants of an A/B split), an optional `inputs` mapping and
 * shadows; validations by name. Every model named must be a layer of the
 * manifest; unknown keys are ignored, so later versions can add some.
 */
import { parseExpression } from "../pipeline/expression.ts";
import { validationNameProblem } from "../pipeline/checks.ts";
import type { ValidationDefinition } from "../pipeline/spec.ts";
import { NAME, type PipelineManifest, UUID } from "./artifact.ts";

/** One step as the config holds it. */
export interface ConfigStep {
  /** The step's model, or the variants of its A/B split, by layer name. */
  variants: { model: string; weight: number }[];
  /** A keyed split's request field. */
  splitKey?: string;
  /** Model input → the name that feeds it. */
  inputs?: Record<string, string>;
  /** Shadow models, by layer name. */
  shadows?: string[];
}

/** The config blob: the pipeline spec. */
export interface PipelineConfig {
  name: string;
  /** A UUID. */
  version: string;
  steps: ConfigStep[];
  validations: ValidationDefinition[];
}

/** Largest weight of a variant. */
const MAX_WEIGHT = 1_000_000;

/** Reads the config blob; every model it names must be a layer of `manifest`. Throws naming what is wrong. */
export function parsePipelineConfig(bytes: Uint8Array, manifest: PipelineManifest): PipelineConfig {
  let c: Record<string, unknown>;
  try {
    c = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error("the config is not JSON");
  }
  if (!isObject(c)) throw new Error("config: not a JSON object");
  return checkSpec(c, "config", new Set(manifest.models.map((m) => m.name)));
}

/**
 * Checks a pipeline spec (the config blob, or `tern publish`'s spec without
 * its files): `what` starts each message; `layers` are the model names that
 * exist (undefined: any valid name).
 */
export function checkSpec(c: Record<string, unknown>, what: string, layers?: ReadonlySet<string>): PipelineConfig {
  if (typeof c.name !== "string" || !NAME.test(c.name)) {
    throw new Error(`${what}: pipeline name ${JSON.stringify(c.name)} is not valid (${NAME.source})`);
  }
  if (typeof c.version !== "string" || !UUID.test(c.version)) {
    throw new Error(`${what}: version ${JSON.stringify(c.version)} is not a UUID`);
  }
  if (!Array.isArray(c.steps) || c.steps.length === 0) throw new Error(`${what}: the pipeline has no steps`);
  const model = (value: unknown, where: string): string => {
    if (typeof value !== "string" || !NAME.test(value) || (layers && !layers.has(value))) {
      throw new Error(
        `${what}: ${where} names model ${JSON.stringify(value)}, which ${
          layers ? "no layer carries" : "is not a valid name"
        }`,
      );
    }
    return value;
  };
  const steps = c.steps.map((s: unknown, i: number): ConfigStep => {
    const where = `step ${i}`;
    if (!isObject(s)) throw new Error(`${what}: ${where} is not an object`);
    let step: ConfigStep;
    if (s.split !== undefined) {
      if (s.model !== undefined) throw new Error(`${what}: ${where} has both "model" and "split"; give one`);
      const split = s.split;
      if (!isObject(split) || !Array.isArray(split.variants) || split.variants.length < 2) {
        throw new Error(`${what}: ${where}: "split" needs "variants": [{"model", "weight"}, …] (two or more)`);
      }
      if (split.key !== undefined && (typeof split.key !== "string" || split.key === "")) {
        throw new Error(`${what}: ${where}: the split's "key" must be a request field name`);
      }
      const variants = split.variants.map((v: unknown, j: number) => {
        const at = `${where} variant ${j}`;
        if (!isObject(v)) throw new Error(`${what}: ${at} is not an object`);
        const weight = v.weight ?? 1;
        if (typeof weight !== "number" || !Number.isSafeInteger(weight) || weight < 1 || weight > MAX_WEIGHT) {
          throw new Error(`${what}: ${at}: weight ${JSON.stringify(weight)} is not a whole number 1…${MAX_WEIGHT}`);
        }
        return { model: model(v.model, at), weight };
      });
      step = { variants, splitKey: split.key as string | undefined };
    } else {
      step = { variants: [{ model: model(s.model, where), weight: 1 }] };
    }
    if (s.inputs !== undefined) {
      if (!isObject(s.inputs) || Object.values(s.inputs).some((v) => typeof v !== "string" || v === "")) {
        throw new Error(`${what}: ${where}: "inputs" must map model input names to the names that feed them`);
      }
      step.inputs = s.inputs as Record<string, string>;
    }
    if (s.shadows !== undefined) {
      if (!Array.isArray(s.shadows)) throw new Error(`${what}: ${where}: "shadows" must be a list of model names`);
      step.shadows = s.shadows.map((m: unknown, j: number) => model(m, `${where} shadow ${j}`));
    }
    return step;
  });
  const validations: ValidationDefinition[] = [];
  if (c.validations !== undefined) {
    if (!isObject(c.validations)) {
      throw new Error(`${what}: "validations" must be an object of name: expression`);
    }
    for (const [name, expression] of Object.entries(c.validations)) {
      const problem = validationNameProblem(name);
      if (problem) throw new Error(`${what}: ${problem}`);
      if (typeof expression !== "string") throw new Error(`${what}: validation '${name}' is not a string`);
      try {
        parseExpression(expression);
      } catch (err) {
        throw new Error(`${what}: validation '${name}': ${(err as Error).message}`);
      }
      validations.push({ name, expression });
    }
  }
  return { name: c.name, version: c.version, steps, validations };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
