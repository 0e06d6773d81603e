/**
 * @module
 * What a pipeline is before it is loaded: a name, a version and ordered steps,
 * each a model file with its identity. The demo pipeline and (later) OCI
 * artifacts both produce this shape.
 */

/** One model file of a pipeline step. */
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

/** A pipeline ready to be loaded. */
export interface PipelineDefinition {
  name: string;
  /** Pipeline version (a UUID). */
  version: string;
  /** Steps in order; each step's outputs feed the next step's inputs by name. */
  steps: ModelArtifact[];
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
