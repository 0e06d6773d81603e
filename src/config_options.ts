/**
 * @module
 * Every option of tern: flag, environment variable, meaning and default, and
 * the `tern --help` text generated from them.
 */
import type { MachineDefaults } from "./config.ts";

/** One option. */
export interface OptionDef {
  flag: string;
  env: string;
  help: string;
  /** Default as shown in --help (machine defaults are filled in). */
  default?: string;
  boolean?: boolean;
  secret?: boolean;
}

/** Every option: flag, environment variable, meaning and default. */
export const OPTIONS: readonly OptionDef[] = [
  {
    flag: "pipeline-url",
    env: "PIPELINE_URL",
    help: "OCI reference of the published pipeline",
    default: "built-in demo",
  },
  {
    flag: "oci-registry",
    env: "OCI_REGISTRY",
    help: "registry host, when PIPELINE_URL has none, and for login",
  },
  { flag: "oci-username", env: "OCI_USERNAME", help: "registry user name" },
  {
    flag: "oci-password",
    env: "OCI_PASSWORD",
    help:
      "registry password or token (never printed); as a flag it is visible to other users in the process list: prefer OCI_PASSWORD or OCI_PASSWORD_FILE",
    secret: true,
  },
  {
    flag: "oci-password-file",
    env: "OCI_PASSWORD_FILE",
    help: "file holding the registry password (Docker and Kubernetes secrets); trailing newlines are dropped",
  },
  {
    flag: "oci-timeout",
    env: "OCI_TIMEOUT",
    help: "seconds a registry request may go without an answer or a byte before it is cut off (and retried)",
    default: "30",
  },
  {
    flag: "pipeline-follow-interval",
    env: "PIPELINE_FOLLOW_INTERVAL",
    help:
      "seconds between checks of PIPELINE_URL's tag for a new version, which is then pulled, loaded beside the one serving and swapped in without a restart; 0: never (a digest is never checked)",
    default: "60",
  },
  {
    flag: "oci-plain-http",
    env: "OCI_PLAIN_HTTP",
    help: "reach a non-loopback registry over plain HTTP (loopback registries always are)",
    default: "false",
    boolean: true,
  },
  {
    flag: "edge-bundle",
    env: "EDGE_BUNDLE",
    help: "base64 edge bundle from the Ops server",
    secret: true,
  },
  {
    flag: "ops-checkin-interval",
    env: "OPS_CHECKIN_INTERVAL",
    help: "seconds between check-ins with Ops (EDGE_BUNDLE), at most 86400; retries back off up to this (≤ 60 s)",
    default: "300",
  },
  {
    flag: "ops-plain-http",
    env: "OPS_PLAIN_HTTP",
    help: "reach a non-loopback OPSCENTER_HOST over plain HTTP (loopback ones always are)",
    default: "false",
    boolean: true,
  },
  {
    flag: "local-inference-storage",
    env: "LOCAL_INFERENCE_STORAGE",
    help: "cap of the local inference log, {number}{Ki,Mi,Gi,Ti}; needs PLATEAU_PAGE_SIZE",
  },
  {
    flag: "plateau-page-size",
    env: "PLATEAU_PAGE_SIZE",
    help: "rows per log upload page; needs LOCAL_INFERENCE_STORAGE",
  },
  {
    flag: "config-cpus",
    env: "CONFIG_CPUS",
    help:
      "CPUs the inference engine may use, a positive decimal as container limits write it (1.0, 2.5, 1500m); threads = its whole part, at least 1, at most the cores",
    default: "all cores",
  },
  {
    flag: "inference-backend",
    env: "INFERENCE_BACKEND",
    help:
      "auto (fastest per model, timed at load; a model native runs in under 1 ms stays on native, the others untimed; with batching on, a GPU runtime faster at a batch of BATCH_MAX_ROWS, at most 64, takes the large batches), wasm (onnxruntime-web), native (onnxruntime CPU), cuda, webgpu (hardware adapters only, unless WEBGPU_ALLOW_SOFTWARE)",
    default: "auto",
  },
  {
    flag: "onnxruntime-lib-dir",
    env: "ONNXRUNTIME_LIB_DIR",
    help: "folder of an onnxruntime GPU build (libonnxruntime.so.1 + CUDA providers) for native/cuda backends",
    default: "the packaged CPU build",
  },
  {
    flag: "webgpu-allow-software",
    env: "WEBGPU_ALLOW_SOFTWARE",
    help:
      "INFERENCE_BACKEND=webgpu may use a software adapter (llvmpipe, lavapipe, SwiftShader): for testing only, tens of times slower than wasm (true/false)",
    default: "false",
    boolean: true,
  },
  {
    flag: "batching",
    env: "BATCHING",
    help:
      "adaptive batching: requests queued behind a run in flight run together as one batch: auto (on for models served on a GPU, WebGPU or CUDA, whose fixed cost per run batching spreads; off on CPU runtimes, where it measured no gain), true, false",
    default: "auto",
    boolean: true,
  },
  {
    flag: "batch-max-rows",
    env: "BATCH_MAX_ROWS",
    help: "adaptive batching: run a joined batch at once when it holds this many rows",
    default: "64",
  },
  {
    flag: "debug",
    env: "DEBUG",
    help: "debug output (true/false)",
    default: "false",
    boolean: true,
  },
  {
    flag: "persistent-volume-dir",
    env: "PERSISTENT_VOLUME_DIR",
    help: "where the pipeline cache, log DB and session live",
    default: "/persist if it exists, else ./persist",
  },
  {
    flag: "host",
    env: "HOST",
    help: "address to listen on",
    default: "0.0.0.0",
  },
  {
    flag: "port",
    env: "PORT",
    help: "port to listen on (0 = any free port)",
    default: "8080",
  },
  {
    flag: "log-durability",
    env: "LOG_DURABILITY",
    help:
      "inference log: durable (reply once journaled or committed; survives a crash or kill of tern, a power cut loses the last 1–2 s), fsync (reply once committed and synced to the disk), async (reply first; a crash loses ≤ one batch), off",
    default: "durable",
  },
  {
    flag: "max-request-size",
    env: "MAX_REQUEST_SIZE",
    help: "largest request body, {number}{Ki,Mi,Gi,Ti}, at least 1Ki; larger ones get 413",
    default: "16Mi",
  },
  {
    flag: "max-request-rows",
    env: "MAX_REQUEST_ROWS",
    help: "most rows (records) in one inference request; more get 413 (at most 20000, the log's queue bound)",
    default: "10000",
  },
  {
    flag: "max-inflight-size",
    env: "MAX_INFLIGHT_SIZE",
    help:
      "request bodies served at once, {number}{Ki,Mi,Gi,Ti}: a request that would pass it waits for room (up to 10 s, then 503); at least MAX_REQUEST_SIZE",
    default: "64Mi",
  },
  {
    flag: "metrics",
    env: "METRICS",
    help: "serve Prometheus metrics at /metrics and count requests for them and the status page at / (true/false)",
    default: "true",
  },
  {
    flag: "api-token",
    env: "API_TOKEN",
    help:
      "bearer token every request must carry (Authorization: Bearer …) except /health, /health/ready and V2's health checks; unset: no token asked (never printed)",
    secret: true,
  },
  {
    flag: "api-token-file",
    env: "API_TOKEN_FILE",
    help: "file holding API_TOKEN (Docker and Kubernetes secrets); trailing newlines are dropped",
  },
  {
    flag: "tls-cert",
    env: "TLS_CERT",
    help: "PEM certificate (chain) file: serve HTTPS (with TLS_KEY); both files are read again on SIGHUP",
  },
  {
    flag: "tls-key",
    env: "TLS_KEY",
    help: "PEM private key file of TLS_CERT (its content is never printed)",
  },
  {
    flag: "log-format",
    env: "LOG_FORMAT",
    help: "tern's own output lines: text, or json (one JSON object a line: time, level, msg) for log shippers",
    default: "text",
  },
];

/** The text of `tern --help`. */
export function helpText(machine: MachineDefaults): string {
  const rows = OPTIONS.map((o) => {
    const def = o.env === "CONFIG_CPUS" ? `all cores (${machine.cpus})` : o.default;
    return `  --${o.flag}${o.boolean ? "[=<value>]" : " <value>"}\n      ${o.env}: ${o.help}${
      def ? ` [default: ${def}]` : ""
    }`;
  });
  return [
    "tern: edge inference engine (Wallaroo edge API)",
    "",
    "Usage: tern [serve] [options]     serve the pipeline over HTTP (default command)",
    "       tern pull [REFERENCE]      fetch the pipeline (default PIPELINE_URL) into the cache, without serving",
    "       tern publish SPEC [REFERENCE]",
    "       tern publish --name NAME --model FILE [--model FILE…] [REFERENCE]",
    "                                  push a pipeline (SPEC: pipeline.json or a folder holding one) and print",
    "                                  its PIPELINE_URL (default REFERENCE: OCI_REGISTRY/NAME:VERSION)",
    "       tern hub COMMAND …         a self-hosted Ops center: serve, add-edge, remove-edge, set-pipeline, edges",
    "                                  (tern hub --help)",
    "       tern help | --help | -h    show this help",
    "       tern version | --version   show the version and the commit it was built from",
    "       tern health                exit 0 if the tern serving here (HOST, PORT) is ready, else 1 (for HEALTHCHECK)",
    "       tern backends [MODEL.onnx] time every runtime (native, CUDA, WebGPU, WASM) on the model (default: the",
    "                                  built-in demo) at batch sizes 1, 8, 32, 64 up to BATCH_MAX_ROWS and compare",
    "                                  their outputs (MODEL under the current folder or /tmp)",
    "",
    "Options (each also read from the environment variable named; flags win):",
    ...rows,
    "",
    "Invalid values stop start-up with exit code 2.",
  ].join("\n");
}
