/**
 * @module
 * onnxruntime-web's WebGPU graph capture, which `tern backends` measures beside plain WebGPU (tern does not serve
 * with it). A captured session records its GPU commands on its first run and replays them on later ones, skipping
 * ort-web's per-kernel work in JS and WASM: the lever issue 15 names for WebGPU's fixed cost per run (about 40 ms on
 * an H200 for a ResNet-50-shaped CNN, against 9 ms for native CPU). Its limits in ort-web 1.30, as found on a
 * software adapter (docs/runtime-notes.md), are why it is measured before it is served:
 * - every input must be a GPU buffer (written from the host on each run here), and every output stays on the GPU;
 * - one input shape per session: replays under another `gpu_graph_id` came back with the first shape's outputs;
 * - on ort-web's default device, a run of another WebGPU session in between made a captured session's next output
 *   the one of its run before; so each session here has a device of its own.
 */
import type { InferenceSession, Tensor } from "onnxruntime-common";
import { errorText } from "../errors.ts";
import type { Backend, ModelSession } from "./backend.ts";
import { collectOutputs, runError, toSpec } from "./ort_session.ts";
import type { HostTensor, TensorSpec } from "./tensor.ts";
import { staysOnGpu, type WebGpuOptions, type WebGpuRuntime, webGpuRuntime } from "./webgpu.ts";

type WebGpuOrt = WebGpuRuntime["ort"];

/** The captured WebGPU runtime, as a backend whose sessions each run one input shape. */
export async function createCapturedWebGpuBackend(options: WebGpuOptions = {}): Promise<Backend> {
  const { ort, adapter } = await webGpuRuntime(options);
  return {
    name: "webgpu-capture",
    description:
      `onnxruntime-web ${ort.env.versions.web} WebGPU with graph capture on ${adapter} (one input shape per session, inputs written into GPU buffers)`,
    async load(model, label) {
      let session: InferenceSession;
      let device: GPUDevice;
      try {
        // A device of its own, handed to ort-web: the input buffers must come from the device the session runs on,
        // and ort-web's own default device (env.webgpu.device) can be another after earlier sessions were released.
        device = await ownDevice();
        session = await ort.InferenceSession.create(model, {
          executionProviders: [{ name: "webgpu", device } as InferenceSession.ExecutionProviderConfig],
          enableGraphCapture: true,
          preferredOutputLocation: "gpu-buffer",
        });
      } catch (err) {
        throw new Error(`model ${label}: WebGPU graph capture could not load it: ${errorText(err)}`);
      }
      try {
        return new CapturedSession(session, ort, device);
      } catch (err) {
        await session.release();
        throw new Error(`model ${label}: ${errorText(err)}`);
      }
    },
  };
}

/** A device on the high-performance adapter with all its features and the limits onnxruntime's kernels use. */
async function ownDevice(): Promise<GPUDevice> {
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) throw new Error("no WebGPU adapter");
  // Deno 2.7.11 panics (wgpu-core: "Adapter does not exist") when an adapter is collected while a device of it is in
  // use: the adapters are kept for the process's life.
  ADAPTERS.push(adapter);
  const limits = adapter.limits as unknown as Record<string, number>;
  const requiredLimits = Object.fromEntries(LIMITS.filter((k) => k in limits).map((k) => [k, limits[k]]));
  const all = [...adapter.features] as GPUFeatureName[];
  try {
    return await adapter.requestDevice({ requiredFeatures: all, requiredLimits });
  } catch {
    // Every feature an adapter lists may be asked for, by the spec; should a runtime refuse one, the ones
    // onnxruntime's kernels use are enough.
    const used = all.filter((f) => (FEATURES as readonly string[]).includes(f));
    return await adapter.requestDevice({ requiredFeatures: used, requiredLimits });
  }
}

/** The adapters of the devices created here (ownDevice). */
const ADAPTERS: GPUAdapter[] = [];

/** Features onnxruntime's WebGPU EP takes where the adapter has them. */
const FEATURES = ["shader-f16", "timestamp-query", "subgroups"] as const;

/** Limits onnxruntime's WebGPU kernels depend on, raised to the adapter's (as it does for a device of its own). */
const LIMITS = [
  "maxBindGroups",
  "maxBufferSize",
  "maxStorageBufferBindingSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxComputeWorkgroupSizeZ",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBuffersPerShaderStage",
];

/** The GPU buffer an input is written into, and the tensor over it that every run feeds. */
interface InputBuffer {
  buffer: GPUBuffer;
  tensor: Tensor;
  dims: readonly number[];
}

/** A captured session on a device of its own: its first run fixes the input shape; runs are serialised, read back included. */
class CapturedSession implements ModelSession {
  readonly backend = "webgpu-capture";
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly #session: InferenceSession;
  readonly #ort: WebGpuOrt;
  readonly #device: GPUDevice;
  #buffers?: Map<string, InputBuffer>;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(session: InferenceSession, ort: WebGpuOrt, device: GPUDevice) {
    this.inputs = session.inputMetadata.map(toSpec);
    this.outputs = session.outputMetadata.map(toSpec);
    const off = session.outputMetadata.filter((o) => !staysOnGpu(o)).map((o) => o.name);
    if (off.length) throw new Error(`graph capture needs every output on the GPU; ${off.join(", ")} cannot stay there`);
    const strings = this.inputs.filter((i) => i.type === "string").map((i) => i.name);
    if (strings.length) throw new Error(`graph capture needs GPU-buffer inputs; ${strings.join(", ")} are strings`);
    this.#session = session;
    this.#ort = ort;
    this.#device = device;
  }

  run(feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
    // The outputs of a replay live in the graph's own buffers: each run is read back before the next one starts.
    const ran = this.#tail.then(() => this.#run(feeds));
    this.#tail = ran.catch(() => {});
    return ran;
  }

  async #run(feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
    const buffers = this.#buffers ??= this.#allocate(feeds);
    for (const [name, input] of buffers) {
      const feed = feeds[name];
      if (!feed || feed.dims.join() !== input.dims.join()) {
        throw new Error(
          `a captured graph runs the input shape of its first run: '${name}' was [${input.dims}], now ${
            feed ? `[${feed.dims}]` : "missing"
          }`,
        );
      }
      this.#device.queue.writeBuffer(input.buffer, 0, wordAligned(feed.data as ArrayBufferView<ArrayBuffer>));
    }
    let out: InferenceSession.ReturnType;
    try {
      out = await this.#session.run(Object.fromEntries([...buffers].map(([name, input]) => [name, input.tensor])));
    } catch (err) {
      throw runError(this.backend, err);
    }
    return await collectOutputs(out);
  }

  /** One GPU buffer per input, sized by the first run's feeds. */
  #allocate(feeds: Record<string, HostTensor>): Map<string, InputBuffer> {
    const buffers = new Map<string, InputBuffer>();
    for (const spec of this.inputs) {
      const feed = feeds[spec.name];
      if (!feed) throw new Error(`input '${spec.name}' is missing`);
      const buffer = this.#device.createBuffer({
        size: Math.max(16, Math.ceil((feed.data as ArrayBufferView).byteLength / 16) * 16),
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      const tensor = this.#ort.Tensor.fromGpuBuffer(buffer, {
        dataType: feed.type as Tensor.GpuBufferDataTypes,
        dims: feed.dims,
      });
      buffers.set(spec.name, { buffer, tensor: tensor as unknown as Tensor, dims: [...feed.dims] });
    }
    return buffers;
  }

  async release(): Promise<void> {
    await this.#tail;
    await this.#session.release();
    for (const { buffer } of this.#buffers?.values() ?? []) buffer.destroy();
    this.#device.destroy(); // its own (ownDevice), with the GPU memory of its graph
  }
}

/** The bytes of `view`, padded with zeros to a multiple of 4 where they are not one (writeBuffer copies words). */
function wordAligned(view: ArrayBufferView<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  if (bytes.byteLength % 4 === 0) return bytes;
  const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
  padded.set(bytes);
  return padded;
}
