/**
 * @module
 * Starts the edge's Ops sync (agent.ts) from tern serve's config and parts:
 * the bundle and PERSISTENT_VOLUME_DIR, the inference log's upload side, and
 * what the pipeline manager reports for check-ins; and, before serving starts,
 * what the kept session says about the pipeline to serve and the log's row ids.
 */
import type { Config } from "../config.ts";
import type { InferenceLog } from "../logs/mod.ts";
import type { PipelineManager } from "../pipeline/manager.ts";
import denoJson from "../../deno.json" with { type: "json" };
import { type OpsAgent, startOpsAgent } from "./agent.ts";
import { DEFAULT_PAGE_ROWS } from "./protocol.ts";
import { isSessionOf, loadSession, type OpsSession, ROW_ID_BLOCK, rowIdsAfterNewLog, saveSession } from "./session.ts";

/** What tern serve hands over. */
export interface EdgeOpsParts {
  pipelines: PipelineManager;
  logs?: InferenceLog;
  /** Settles once the first pipeline load has: a pipeline Ops assigns is followed only after it. */
  loaded: Promise<void>;
  info(line: string): void;
  error(line: string): void;
  debug?: (line: string) => void;
}

/** Starts Ops sync; `config.edgeBundle` must be set. */
export function startEdgeOps(config: Config, parts: EdgeOpsParts): OpsAgent {
  const { pipelines, logs } = parts;
  return startOpsAgent({
    bundle: config.edgeBundle!,
    dir: config.persistentVolumeDir,
    plainHttp: config.opsPlainHttp,
    checkinIntervalMs: config.opsCheckinIntervalSeconds * 1000,
    pageRows: config.plateauPageSize ?? DEFAULT_PAGE_ROWS,
    log: logs?.upload,
    onCommit: logs ? (listener) => logs.writer.onCommit(listener) : undefined,
    state: () => ({
      status: pipelines.status,
      pipelineName: pipelines.name ?? null,
      pipelineUrl: pipelines.updater?.servingUrl ?? (config.pipelineUrl || null),
      pipelineVersion: pipelines.current?.version ?? null,
    }),
    follow: (url) => parts.loaded.then(() => pipelines.updater?.follow(url)),
    version: denoJson.version,
    fetch: globalThis.fetch,
    now: Date.now,
    info: parts.info,
    error: parts.error,
    debug: parts.debug,
  });
}

/**
 * The pipeline Ops assigned this edge and it served before it stopped (kept in its session), when the session is this
 * bundle's: a restart serves that, not the bundle's PIPELINE_URL, before Ops is reached again.
 */
export async function assignedPipelineUrl(config: Config): Promise<string | undefined> {
  return (await bundleSession(config))?.assignedPipelineUrl;
}

/** The kept session when it is this bundle's (an unreadable one is left to the agent, which says why). */
async function bundleSession(config: Config): Promise<OpsSession | undefined> {
  const session = await loadSession(config.persistentVolumeDir).catch(() => undefined);
  return session && await isSessionOf(session, config.edgeBundle!) ? session : undefined;
}

/**
 * Where the log's row ids must continue, asked before its first commit (`nextRowId`: where they would): when the log
 * is behind the row ids this bundle's session sent to Ops (its file was removed or replaced, the session kept), above
 * them, or Ops would take its rows for ones it has and drop them; with the line to print. A session from before
 * `rowIdsReserved` gets one here, from this log, before anything is sent.
 */
export async function rowIdsFrom(
  config: Config,
  nextRowId: number,
): Promise<{ from: number; line: string } | undefined> {
  const session = await bundleSession(config);
  if (!session || session.edgeId === null) return undefined;
  if (session.rowIdsReserved === undefined) {
    // A write that fails is left to the agent: its first upload reserves them, or says why it cannot.
    await saveSession(config.persistentVolumeDir, { ...session, rowIdsReserved: nextRowId - 1 + ROW_ID_BLOCK })
      .catch(() => {});
    return undefined;
  }
  const from = rowIdsAfterNewLog(session, nextRowId);
  if (from === undefined) return undefined;
  return {
    from,
    line: `Inference log: it is behind the rows edge '${session.edgeName}' sent to Ops before (its next row id was ` +
      `${nextRowId}): its rows continue from id ${from}, so that Ops takes them as new`,
  };
}
