/**
 * @module
 * What a pipeline is before it is loaded: a name, a version, ordered steps
 * and validations. A step runs one model, or one of several (an A/B split),
 * fed by name from the step before it (through an explicit mapping where the
 * names differ), with shadow models run beside it on the same input. The demo
 * pipeline and OCI artifacts (docs/pipeline-artifact.md) both produce this shape.
 */

/** One model file of a pipeline. */
export interface ModelArtifact {
  /** Model name, as `/models` reports it. */
  name: string;
  /** Model version (a UUID). */
  version: string;
  /** sha256 hex of the model file. */
  sha256: string;
  /** The ONNX bytes. */
  bytes: Uint8Array;
}

/** One variant of a step: its model and its share of the traffic. */
export interface Variant {
  model: ModelArtifact;
  /** Relative weight (a positive whole number); a step of one variant ignores it. */
  weight: number;
}

/** One pipeline step. */
export interface StepDefinition {
  /** The step's model, or the variants of an A/B split (one is served per request). */
  variants: Variant[];
  /** A/B split keyed on this request field (the first row's value); absent: random by weight. */
  splitKey?: string;
  /** Model input name → the name it is fed from (the previous step's output; the request's column for step 0). */
  inputs?: Record<string, string>;
  /** Models run beside the step on the same input; their outputs go to `shadow_data`, never on. */
  shadows?: ModelArtifact[];
}

/** A named check over a row's outputs (and inputs); true flags the row (src/pipeline/expression.ts). */
export interface ValidationDefinition {
  name: string;
  expression: string;
}

/** A pipeline ready to be loaded. */
export interface PipelineDefinition {
  name: string;
  /** Pipeline version (a UUID). */
  version: string;
  /** Steps in order; each step's outputs feed the next step's inputs by name. */
  steps: StepDefinition[];
  /** Checks run on every row of every reply. */
  validations?: ValidationDefinition[];
  /**
   * Where it came from: the reference as given and the digest it names (published pipelines); `manifest`, the
   * pipeline manifest's own digest where that differs (the reference names an index).
   */
  source?: { reference: string; digest: string; manifest?: string };
}

/** A step that runs `model` alone. */
export function modelStep(model: ModelArtifact): StepDefinition {
  return { variants: [{ model, weight: 1 }] };
}

/** Every model a definition loads, each once (steps, variants, shadows), in pipeline order. */
export function modelsOf(definition: PipelineDefinition): ModelArtifact[] {
  const seen = new Map<string, ModelArtifact>();
  for (const step of definition.steps) {
    for (const m of [...step.variants.map((v) => v.model), ...(step.shadows ?? [])]) {
      if (!seen.has(m.name)) seen.set(m.name, m);
    }
  }
  return [...seen.values()];
}

/** sha256 hex of `bytes`. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A name-based UUID (RFC 9562 version 8) from the first 16 bytes of a sha256 hex digest. */
export function uuidFromSha256(hex: string): string {
  const b = hex.slice(0, 32).match(/../g)!.map((x) => parseInt(x, 16));
  b[6] = (b[6] & 0x0f) | 0x80;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
