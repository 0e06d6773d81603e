/**
 * @module
 * The smallest ONNX model (y = Identity(x), one float, opset 13; made with
 * onnx's helper and checked by its checker): a thread's first onnxruntime
 * session costs about 80 ms more than the next (measured from source, 2 cores),
 * so a prewarmed worker opens and releases this one before the real model
 * arrives (off_thread.ts).
 */

/** The model's bytes (68). */
export const WARM_UP_MODEL: Uint8Array = Uint8Array.from(
  atob("CAc6OgoQCgF4EgF5IghJZGVudGl0eRIEd2FybVoPCgF4EgoKCAgBEgQKAggBYg8KAXkSCgoICAESBAoCCAFCBAoAEA0="),
  (c) => c.charCodeAt(0),
);
