/**
 * @module
 * `tern serve`: wires config → pipeline → engine → server, listens, then loads
 * the pipeline (so `/health` answers at once and `/health/ready` turns 200
 * when the pipeline serves). SIGINT/SIGTERM stop accepting, finish in-flight
 * requests and exit 0.
 */
import { errorText } from "./errors.ts";
import type { Config } from "./config.ts";
import { createBackend } from "./engine/select.ts";
import { demoPipeline } from "./pipeline/demo.ts";
import { PipelineManager } from "./pipeline/manager.ts";
import { createApp } from "./server/app.ts";
import { fetchPipeline, parseReference, registrySource, saveServedRef } from "./registry/mod.ts";
import { credentialsWarning, registrySettings } from "./registry_settings.ts";
import { PipelineUpdater } from "./pipeline/updater.ts";
import { type InferenceLog, type LogDurability, openInferenceLog } from "./logs/mod.ts";
import { removeAddonCopies, sweepAddonCopies } from "./addon_copies.ts";
import { listen } from "./server/listen.ts";
import { onStopSignals, stopInOrder } from "./shutdown.ts";

/** BATCHING=auto batches the models these runtimes serve (see pipeline/batcher.ts). */
const GPU_BACKENDS = ["webgpu", "cuda"] as const;

/** Where serve writes its start-up lines. */
export interface ServeOutput {
  info(line: string): void;
  error(line: string): void;
}

/** Serves until a signal stops it. */
export async function serve(
  config: Config,
  out: ServeOutput = consoleOutput,
): Promise<void> {
  // A start-up error (the log, the port) ends the process: not before the backend's warm-up has settled.
  const warm = { settled: Promise.resolve() };
  try {
    await serveUntilStopped(config, out, warm);
  } catch (err) {
    await warm.settled;
    throw err;
  }
}

async function serveUntilStopped(config: Config, out: ServeOutput, warm: { settled: Promise<void> }): Promise<void> {
  // A malformed PIPELINE_URL is a start-up error (exit 2), found before anything starts.
  if (config.pipelineUrl) parseReference(config.pipelineUrl, config.ociRegistry);
  const orphanCredentials = credentialsWarning(config);
  if (orphanCredentials) out.error(orphanCredentials);
  // The log opens (in its writing worker thread) while the runtimes load here: dist/tern was ready 0.1–0.28 s
  // sooner (alternated, 2 cores).
  const logsOpening = config.logDurability === "off"
    ? Promise.resolve(undefined)
    : openLogs(config, config.logDurability, out);
  logsOpening.catch(() => {}); // awaited below; a failure is reported there, not as an unhandled rejection
  const backend = await createBackend(config.inferenceBackend, {
    threads: config.configCpus,
    log: out.info,
    libDir: config.onnxruntimeLibDir,
    webgpuAllowSoftware: config.webgpuAllowSoftware,
    batching: config.batching === "off" ? undefined : { maxRows: config.batchMaxRows, backends: GPU_BACKENDS },
  }).catch(async (err) => {
    await (await logsOpening.catch(() => undefined))?.close();
    throw err;
  });
  // The pipeline's first model load follows; no exit before the warm-up has settled (Backend.prewarm).
  const warmed = warm.settled = backend.prewarm?.() ?? Promise.resolve();
  const pipelines = new PipelineManager(
    backend,
    config.batching === "off"
      ? undefined
      : { maxRows: config.batchMaxRows, backends: config.batching === "auto" ? GPU_BACKENDS : undefined },
  );
  // In-line updates: follows PIPELINE_URL's tag, takes URLs from Ops (pipelines.updater.follow), reloads a crashed model.
  const updater = new PipelineUpdater({
    pipelines,
    source: registrySource(registrySettings(config), config.persistentVolumeDir, out.info, demoPipeline),
    intervalMs: config.pipelineFollowIntervalSeconds * 1000,
    info: out.info,
    error: out.error,
  });
  pipelines.updater = updater;
  pipelines.onSessionFailure = (model) => void updater.reload(`Model ${model}'s worker thread stopped`);
  const logs = await logsOpening;
  // The Ops client's modules (the JWT signer among them) load only for an edge with a bundle; before `listen`, as
  // nothing may wait between it and the signal handlers.
  const edgeOps = config.edgeBundle ? await import("./ops/edge_ops.ts") : undefined;
  // What Ops assigned and served before this restart, kept in the session: served first (the settings, credentials
  // among them, stay those of the configuration), the bundle's or PIPELINE_URL's pipeline when it cannot be had.
  const assigned = await edgeOps?.assignedPipelineUrl(config);
  let startUrl = config.pipelineUrl;
  if (assigned && assigned !== config.pipelineUrl) {
    out.info(
      `Serving ${assigned}, the pipeline Ops assigned before this restart (the bundle or PIPELINE_URL names ${
        config.pipelineUrl ?? "the built-in demo"
      })`,
    );
    startUrl = assigned;
  }
  const app = createApp({
    pipelines,
    logs,
    now: Date.now,
    maxBodyBytes: config.maxRequestBytes,
    debugLog: config.debug ? (line) => out.info(`debug: ${line}`) : undefined,
    maxRequestRows: config.maxRequestRows,
    maxInflightBytes: config.maxInflightBytes,
    metrics: config.metrics,
    apiToken: config.apiToken,
    // `ops` starts below, once the server listens.
    ops: config.edgeBundle ? { status: () => ops?.status, backlog: logs && (() => logs.upload.backlog()) } : undefined,
  });
  if (config.debug) out.info(`debug: config ${JSON.stringify(redacted(config))}`);

  // The stop signals are handled from before the server listens (a signal right after the 'Listening' line
  // otherwise ended the process, 143). `server` and `ops` are set below (absent when listening failed).
  const live: {
    server?: ReturnType<typeof listen>;
    ops?: ReturnType<NonNullable<typeof edgeOps>["startEdgeOps"]>;
  } = {};
  const stop = async (signal: string, exitCode = 0) => {
    out.info(`${signal}: finishing in-flight requests and stopping`);
    // Bounded (shutdown.ts); an update or a load under way finishes before the models are released.
    const code = await stopInOrder({ name: "the requests in flight", run: () => live.server?.shutdown() }, [
      { name: "Ops sync", run: () => live.ops?.stop() },
      { name: "the inference log", run: () => logs?.close() },
      { name: "the pipeline updater", run: () => updater.stop() },
      { name: "the models", run: () => warmed.then(() => pipelines.close()) },
    ], out.error);
    Deno.exit(Math.max(code, exitCode));
  };
  onStopSignals(stop, out.error);

  const server = live.server = listen({
    host: config.host,
    port: config.port,
    tls: config.tls,
    handler: (request) => app.fetch(request),
    info: out.info,
    error: out.error,
  });

  // Settles once the first pipeline load has (Ops then refuses or reassigns without tearing a load down).
  let loadSettled!: () => void;
  const settled = new Promise<void>((resolve) => loadSettled = resolve);
  // EDGE_BUNDLE: join Ops (or resume the session), check in, upload the log; serving never waits on it.
  const ops = live.ops = edgeOps
    ? edgeOps.startEdgeOps(config, {
      pipelines,
      logs,
      loaded: settled,
      info: out.info,
      error: out.error,
      debug: config.debug ? (line) => out.info(`debug: ${line}`) : undefined,
    })
    : undefined;

  // Ops refused this edge on its first contact (used or expired join token, expired session): start-up stops,
  // once the pipeline load under way has settled (onnxruntime aborts the process if it is torn down mid-load).
  void ops?.firstContact.then(async (refusal) => {
    if (!refusal) return;
    out.error(`tern: ${refusal.message}`);
    await settled;
    return stop("Ops refused this edge", 1);
  });

  let servedDigest: string | undefined;
  let servedManifest: string | undefined;
  try {
    let definition;
    if (startUrl) {
      const pull = (url: string) => fetchPipeline(url, registrySettings(config), config.persistentVolumeDir, out.info);
      try {
        definition = await pull(startUrl).catch((err) => {
          if (startUrl === config.pipelineUrl) throw err;
          out.error(
            `Cannot get pipeline ${startUrl}, which Ops assigned: ${errorText(err)}; serving the configured one`,
          );
          startUrl = config.pipelineUrl;
          return startUrl ? pull(startUrl) : demoPipeline();
        });
      } catch (err) {
        // Bad credentials, a missing tag, a corrupt layer, or no registry and no cache: nothing to serve.
        out.error(`Cannot get pipeline ${startUrl}: ${errorText(err)}`);
        await logs?.close();
        await warmed;
        Deno.exit(1);
      }
    } else {
      out.info("No PIPELINE_URL set: serving the built-in demo pipeline");
      definition = await demoPipeline();
    }
    pipelines.announce(definition.name);
    servedDigest = definition.source?.digest; // a version that fails to load is not tried again until the tag moves
    servedManifest = definition.source?.manifest;
    out.info(`Starting engine: ${backend.description}`);
    const started = performance.now();
    const loaded = await pipelines.load(definition);
    for (const m of loaded.models) {
      out.info(
        `Model ${m.name}: sha256 ${m.sha256}, version ${m.version}, backend ${m.backend}${
          m.session.offThread ? " (runs in a worker thread of its own)" : ""
        }`,
      );
    }
    out.info(
      `Pipeline ${loaded.name} (version ${loaded.version}) is Running, loaded in ${
        Math.round(performance.now() - started)
      } ms`,
    );
    await saveServedRef(definition, config.persistentVolumeDir).catch((err) =>
      out.error(`Recording the pipeline as the version to start from failed: ${errorText(err)}`)
    );
  } catch (err) {
    out.error(
      `Pipeline failed to load: ${errorText(err)}`,
    );
  }
  // Every native addon is loaded by now: Deno's copies of them can go (addon_copies.ts), and those of later loads
  // once they are loaded.
  removeAddonCopies();
  sweepAddonCopies();
  updater.start(startUrl, servedDigest, servedManifest);
  loadSettled();
  await server.finished;
}

/** Opens the inference log in PERSISTENT_VOLUME_DIR with its writer. */
async function openLogs(config: Config, durability: LogDurability, out: ServeOutput): Promise<InferenceLog> {
  const cap = config.localInferenceStorageBytes;
  const log = await openInferenceLog({
    dir: config.persistentVolumeDir,
    sync: durability === "fsync" ? "full" : "normal",
    walLimitBytes: Math.min(4 * 2 ** 20, cap === undefined ? Infinity : Math.max(64 * 2 ** 10, cap / 8)),
    capBytes: cap,
  }, {
    durability,
    partition: config.edgeBundle?.EDGE_NAME ?? Deno.hostname(),
  }, {
    // An edge's log continues above the row ids its Ops session sent, should the log be new to it.
    continueIds: config.edgeBundle
      ? async (next) => {
        const continued = await (await import("./ops/edge_ops.ts")).rowIdsFrom(config, next);
        if (continued) out.info(continued.line);
        return continued?.from;
      }
      : undefined,
  });
  out.info(
    `Inference log: ${log.path} (${durability}${cap === undefined ? ", no storage cap" : `, capped at ${cap} bytes`})`,
  );
  return log;
}

/** The config as it may be printed: secrets replaced by `***`, the bundle by its key names. */
export function redacted(config: Config): Record<string, unknown> {
  return {
    ...config,
    ociPassword: config.ociPassword === undefined ? undefined : "***",
    apiToken: config.apiToken === undefined ? undefined : "***",
    edgeBundle: config.edgeBundle === undefined ? undefined : `keys ${Object.keys(config.edgeBundle).join(",")}`,
  };
}

const consoleOutput: ServeOutput = {
  info: (line) => console.log(line),
  error: (line) => console.error(line),
};
