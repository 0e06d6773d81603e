/**
 * @module
 * The one place where environment variables and command-line flags are read,
 * validated and defaulted. Flags win over the environment. Anything invalid
 * is a ConfigError naming the variable and what it accepts; `main.ts` prints
 * it and exits with code 2. `tern --help` is generated from OPTIONS.
 */
import { parseArgs } from "node:util";
import { ConfigError } from "./errors.ts";
import { type EdgeBundle, parseEdgeBundle } from "./ops/edge_bundle.ts";
import { BACKEND_CHOICES, type BackendChoice } from "./engine/select.ts";

/** The commands tern runs. */
export type Command = "serve" | "help" | "version" | "publish" | "pull";

const COMMANDS: readonly Command[] = ["serve", "help", "version", "publish", "pull"];

/** What `tern publish` was given. */
export interface PublishArgs {
  /** A pipeline.json or a folder holding one. */
  spec?: string;
  /** Short form: pipeline name and model files. */
  name?: string;
  models: string[];
  /** Where to push; default OCI_REGISTRY/<name>:<version>. */
  reference?: string;
}

/** Everything tern needs to know from its environment, resolved once at start-up. */
export interface Config {
  command: Command;
  /** OCI reference of the pipeline; undefined → the built-in demo. */
  pipelineUrl?: string;
  ociRegistry?: string;
  ociUsername?: string;
  /** Never printed. */
  ociPassword?: string;
  edgeBundle?: EdgeBundle;
  /** Cap of the inference log in bytes (with plateauPageSize). */
  localInferenceStorageBytes?: number;
  /** Rows per upload page (with localInferenceStorageBytes). */
  plateauPageSize?: number;
  /** CPUs (threads) the inference engine may use. */
  configCpus: number;
  debug: boolean;
  persistentVolumeDir: string;
  host: string;
  port: number;
  /** Largest accepted request body in bytes. */
  maxRequestBytes: number;
  /** Which runtime runs each model. */
  inferenceBackend: BackendChoice;
  /** ONNXRUNTIME_LIB_DIR: an onnxruntime (GPU) build for the native backends. */
  onnxruntimeLibDir?: string;
  /** Adaptive batching on. */
  batching: boolean;
  /** Adaptive batching: a batch runs at once at this many rows. */
  batchMaxRows: number;
  /** Plain HTTP to a non-loopback registry (explicit opt-in). */
  ociPlainHttp: boolean;
  /** Seconds without an answer or a byte before a registry request is cut off. */
  ociTimeoutSeconds: number;
  /** For `tern publish`. */
  publish?: PublishArgs;
  /** Inference log: reply after commit (durable), before (async), or no log (off). */
  logDurability: "durable" | "async" | "off";
}

/** Defaults that depend on the machine, passed in by main.ts. */
export interface MachineDefaults {
  cpus: number;
  persistentVolumeDir: string;
}

interface OptionDef {
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
    help: "registry password or token (never printed)",
    secret: true,
  },
  {
    flag: "oci-timeout",
    env: "OCI_TIMEOUT",
    help: "seconds a registry request may go without an answer or a byte before it is cut off (and retried)",
    default: "30",
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
    help: "CPUs (threads) the inference engine may use",
    default: "all cores",
  },
  {
    flag: "inference-backend",
    env: "INFERENCE_BACKEND",
    help: "auto (fastest per model, timed at load), wasm (onnxruntime-web), native (onnxruntime CPU), cuda",
    default: "auto",
  },
  {
    flag: "onnxruntime-lib-dir",
    env: "ONNXRUNTIME_LIB_DIR",
    help: "folder of an onnxruntime GPU build (libonnxruntime.so.1 + CUDA providers) for native/cuda backends",
    default: "the packaged CPU build",
  },
  {
    flag: "batching",
    env: "BATCHING",
    help: "adaptive batching: requests queued behind a run in flight run together as one batch (true/false)",
    default: "false",
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
    help: "inference log: durable (reply once logged), async (reply first; a crash loses ≤ one batch), off",
    default: "durable",
  },
  {
    flag: "max-request-size",
    env: "MAX_REQUEST_SIZE",
    help: "largest request body, {number}{Ki,Mi,Gi,Ti}",
    default: "100Mi",
  },
];

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** Parses argv and env into a Config; throws ConfigError on anything invalid. */
export function parseConfig(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  machine: MachineDefaults,
): Config {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
        name: { type: "string" },
        model: { type: "string", multiple: true },
        ...Object.fromEntries(
          OPTIONS.map((
            o,
          ) => [o.flag, { type: o.boolean ? "boolean" : "string" } as const]),
        ),
      },
    });
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}; see tern --help`);
  }
  const { values, positionals } = parsed;
  const command = values.help ? "help" : values.version ? "version" : positionals[0] ?? "serve";
  if (!COMMANDS.includes(command as Command)) {
    throw new ConfigError(`unknown command '${command}'; commands: ${COMMANDS.join(", ")} (serve is the default)`);
  }
  const operands = positionals.slice(1);
  const maxOperands = command === "publish" ? 2 : command === "pull" ? 1 : 0;
  if (operands.length > maxOperands) {
    throw new ConfigError(`unexpected argument '${operands[maxOperands]}'; see tern --help`);
  }
  if ((values.name !== undefined || values.model !== undefined) && command !== "publish") {
    throw new ConfigError("--name and --model belong to tern publish");
  }
  // Help and version answer whatever the environment holds: they get the defaults.
  if (command === "help" || command === "version") return { ...parseConfig([], {}, machine), command };

  /** Flag value if given, else the environment's; empty strings count as unset. */
  const read = (o: OptionDef): string | undefined => {
    const flag = (values as Record<string, string | boolean | undefined>)[o.flag];
    if (flag !== undefined) return String(flag);
    const v = env[o.env];
    return v === undefined || v === "" ? undefined : v;
  };
  const get = (envName: string) => read(OPTIONS.find((o) => o.env === envName)!);
  /** For options whose OPTIONS default is a real value (HOST, PORT, MAX_REQUEST_SIZE). */
  const getOrDefault = (envName: string): string => get(envName) ?? OPTIONS.find((o) => o.env === envName)!.default!;

  const bundleText = get("EDGE_BUNDLE");
  let edgeBundle: EdgeBundle | undefined;
  if (bundleText !== undefined) {
    try {
      edgeBundle = parseEdgeBundle(bundleText);
    } catch (err) {
      throw new ConfigError(
        `EDGE_BUNDLE ${(err as Error).message}: expected base64 of 'export KEY=VALUE' lines as the Ops server gives it`,
      );
    }
  }

  const storage = get("LOCAL_INFERENCE_STORAGE");
  const pageSize = get("PLATEAU_PAGE_SIZE");
  if ((storage === undefined) !== (pageSize === undefined)) {
    const [set, unset] = storage === undefined
      ? ["PLATEAU_PAGE_SIZE", "LOCAL_INFERENCE_STORAGE"]
      : ["LOCAL_INFERENCE_STORAGE", "PLATEAU_PAGE_SIZE"];
    throw new ConfigError(
      `${set} is set but ${unset} is not: set both (e.g. LOCAL_INFERENCE_STORAGE=1Gi PLATEAU_PAGE_SIZE=1000) or neither`,
    );
  }

  return {
    command: command as Command,
    pipelineUrl: (command === "pull" ? operands[0] : undefined) ?? get("PIPELINE_URL") ?? edgeBundle?.PIPELINE_URL,
    ociRegistry: get("OCI_REGISTRY"),
    ociUsername: get("OCI_USERNAME"),
    ociPassword: get("OCI_PASSWORD"),
    edgeBundle,
    localInferenceStorageBytes: storage === undefined ? undefined : parseStorageCap(storage),
    plateauPageSize: pageSize === undefined ? undefined : parseCount("PLATEAU_PAGE_SIZE", pageSize, "rows"),
    configCpus: parseCpus(get("CONFIG_CPUS"), machine.cpus),
    debug: parseBool("DEBUG", get("DEBUG")),
    persistentVolumeDir: get("PERSISTENT_VOLUME_DIR") ??
      machine.persistentVolumeDir,
    host: getOrDefault("HOST"),
    port: parsePort(getOrDefault("PORT")),
    maxRequestBytes: parseSize("MAX_REQUEST_SIZE", getOrDefault("MAX_REQUEST_SIZE")),
    inferenceBackend: parseChoice("INFERENCE_BACKEND", getOrDefault("INFERENCE_BACKEND"), BACKEND_CHOICES),
    onnxruntimeLibDir: get("ONNXRUNTIME_LIB_DIR"),
    batching: parseBool("BATCHING", get("BATCHING")),
    batchMaxRows: parseCount("BATCH_MAX_ROWS", getOrDefault("BATCH_MAX_ROWS"), "rows"),
    ociPlainHttp: parseBool("OCI_PLAIN_HTTP", get("OCI_PLAIN_HTTP")),
    ociTimeoutSeconds: parseCount("OCI_TIMEOUT", getOrDefault("OCI_TIMEOUT"), "seconds"),
    publish: command === "publish" ? publishArgs(values.name, values.model ?? [], operands) : undefined,
    logDurability: parseChoice("LOG_DURABILITY", getOrDefault("LOG_DURABILITY"), ["durable", "async", "off"] as const),
  };
}

/** `{number}{Ki,Mi,Gi,Ti}` (no unit = bytes) to bytes. */
export function parseSize(name: string, text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(text);
  if (!m) {
    throw new ConfigError(
      `${name}='${text}' is not a size: write {number}{Ki,Mi,Gi,Ti}, e.g. 512Mi`,
    );
  }
  const unit = SIZE_UNITS[m[2]];
  if (unit === undefined) {
    throw new ConfigError(
      `${name}='${text}' has unknown size unit '${m[2]}': use Ki, Mi, Gi or Ti, e.g. 512Mi`,
    );
  }
  const bytes = Math.floor(Number(m[1]) * unit);
  if (bytes < 1) {
    throw new ConfigError(`${name}='${text}' must be larger than 0`);
  }
  return bytes;
}

function publishArgs(name: string | undefined, models: string[], operands: string[]): PublishArgs {
  if (models.length > 0 || name !== undefined) {
    if (!name || models.length === 0) {
      throw new ConfigError("tern publish: the short form needs --name and --model FILE");
    }
    if (operands.length > 1) throw new ConfigError("tern publish --name … --model …: give one reference");
    return { name, models, reference: operands[0] };
  }
  if (operands.length === 0) {
    throw new ConfigError("tern publish: give a pipeline spec (file or folder) or --name and --model FILE");
  }
  return { spec: operands[0], models: [], reference: operands[1] };
}

/** The smallest LOCAL_INFERENCE_STORAGE: room for the schema and a few commit batches. */
export const MIN_LOG_STORAGE_BYTES = 256 * 2 ** 10;

function parseStorageCap(text: string): number {
  const bytes = parseSize("LOCAL_INFERENCE_STORAGE", text);
  if (bytes < MIN_LOG_STORAGE_BYTES) {
    throw new ConfigError(`LOCAL_INFERENCE_STORAGE='${text}' is below the minimum of 256Ki`);
  }
  return bytes;
}

function parseChoice<T extends string>(name: string, text: string, choices: readonly T[]): T {
  const t = text.trim().toLowerCase() as T;
  if (!choices.includes(t)) throw new ConfigError(`${name}='${text}' must be one of ${choices.join(", ")}`);
  return t;
}

function parseCount(name: string, text: string, what: string): number {
  if (!/^\s*\d+\s*$/.test(text) || Number(text) < 1) {
    throw new ConfigError(
      `${name}='${text}' must be a whole number of ${what}, at least 1`,
    );
  }
  return Number(text);
}

function parseCpus(text: string | undefined, cpus: number): number {
  return text === undefined ? cpus : parseCount("CONFIG_CPUS", text, "CPUs");
}

function parseBool(name: string, text: string | undefined): boolean {
  if (text === undefined) return false;
  const t = text.trim().toLowerCase();
  if (["true", "1", "yes", "on"].includes(t)) return true;
  if (["false", "0", "no", "off"].includes(t)) return false;
  throw new ConfigError(`${name}='${text}' must be true or false`);
}

function parsePort(text: string): number {
  if (!/^\s*\d+\s*$/.test(text) || Number(text) > 65535) {
    throw new ConfigError(
      `PORT='${text}' must be a port number from 0 to 65535 (0 = any free port)`,
    );
  }
  return Number(text);
}

/** The text of `tern --help`. */
export function helpText(machine: MachineDefaults): string {
  const rows = OPTIONS.map((o) => {
    const def = o.env === "CONFIG_CPUS" ? `all cores (${machine.cpus})` : o.default;
    return `  --${o.flag}${o.boolean ? "" : " <value>"}\n      ${o.env}: ${o.help}${def ? ` [default: ${def}]` : ""}`;
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
    "       tern help | --help | -h    show this help",
    "       tern version | --version   show the version",
    "",
    "Options (each also read from the environment variable named; flags win):",
    ...rows,
    "",
    "Invalid values stop start-up with exit code 2.",
  ].join("\n");
}
