/**
 * @module
 * The edge's Ops sync, started by `tern serve` when EDGE_BUNDLE is set: join
 * once (or resume the stored session: the join token is never sent again),
 * check in every OPS_CHECKIN_INTERVAL, and upload the inference log
 * (uploader.ts). It runs beside serving and never holds it up.
 *
 * `firstContact` settles with the outcome of the first answer from Ops in
 * this process: undefined when accepted, or the refusal (a used or expired
 * join token, an expired session, a removed edge; also a session known to be
 * expired without asking). serve.ts stops start-up on a refusal; a refusal
 * later is reported and ends Ops sync while serving goes on.
 */
import { errorText } from "../errors.ts";
import type { UploadLog } from "../logs/mod.ts";
import type { EdgeBundle } from "./edge_bundle.ts";
import { Backoff, sleep } from "./backoff.ts";
import { type EdgeKey, OpsClient } from "./client.ts";
import { NEW_BUNDLE_ADVICE, OpsRefused, OpsUnavailable, refusalAdvice } from "./errors.ts";
import { type CheckInRequest, type EdgeStatus, opsBaseUrl, tokenHash } from "./protocol.ts";
import {
  isSessionOf,
  loadSession,
  newKeyPair,
  type OpsSession,
  ROW_ID_BLOCK,
  saveSession,
  sessionExpired,
  signingKey,
} from "./session.ts";
import { LogUploader } from "./uploader.ts";

/** The line printed once a join succeeds (as the Wallaroo edge prints it). */
export const ATTESTATION_LINE = "Node attestation was successful";

/** What the edge is serving, for check-ins. */
export interface EdgeState {
  status: EdgeStatus;
  pipelineName: string | null;
  pipelineUrl: string | null;
  pipelineVersion: string | null;
}

/** What the agent needs; everything with an effect is passed in. */
export interface OpsAgentOptions {
  bundle: EdgeBundle;
  /** PERSISTENT_VOLUME_DIR: the session file lives here. */
  dir: string;
  plainHttp: boolean;
  checkinIntervalMs: number;
  pageRows: number;
  /** The inference log; absent with LOG_DURABILITY=off (nothing to upload). */
  log?: UploadLog;
  /** Registers a callback run after every log commit. */
  onCommit?: (listener: () => void) => void;
  state(): EdgeState;
  /** Serves the PIPELINE_URL Ops assigns (the pipeline updater's `follow`); resolves once it serves or failed. */
  follow?: (pipelineUrl: string) => Promise<void>;
  version: string;
  fetch: typeof fetch;
  now: () => number;
  random?: () => number;
  /** How long a partial page waits for more rows (default 1 s). */
  lingerMs?: number;
  /** How long log rows Ops refused stay on trial (default: the uploader's TRIAL_MS). */
  trialMs?: number;
  info(line: string): void;
  error(line: string): void;
  debug?: (line: string) => void;
}

/** Where Ops sync stands, for /metrics and the status page (times in ms since the epoch, null: not yet). */
export interface OpsSyncStatus {
  edgeName: string;
  /** OPSCENTER_HOST. */
  opsHost: string;
  /** True once the edge has joined (now or in an earlier run). */
  joined: boolean;
  /** The last answer from Ops: a check-in, join or acknowledged page. */
  lastContact: number | null;
  lastCheckIn: number | null;
  /** The last page Ops acknowledged in this process. */
  lastUpload: number | null;
  /** Rows Ops acknowledged in this process. */
  uploadedRows: number;
  /** The last failed request (cleared by the next success), e.g. Ops unreachable. */
  lastError: string | null;
  /** Why Ops refused this edge (Ops sync has then stopped), e.g. `session_expired`. */
  refused: string | null;
}

/** A running agent. */
export interface OpsAgent {
  /** Undefined once Ops accepted this edge; an Error when start-up must stop (see the module doc). */
  readonly firstContact: Promise<Error | undefined>;
  /** Where sync stands now (read-only; updated as requests complete). */
  readonly status: Readonly<OpsSyncStatus>;
  /** Stops every loop and request in flight. */
  stop(): Promise<void>;
}

/** First retry delay after a failed request to Ops. */
const BACKOFF_BASE_MS = 500;
/** Longest retry delay (also bounded by the check-in interval). */
const BACKOFF_CAP_MS = 60_000;
/** The session file's last contact is rewritten at most this often by uploads (check-ins always write it). */
const CONTACT_SAVE_MS = 60_000;

/** Starts Ops sync for `options.bundle`. */
export function startOpsAgent(options: OpsAgentOptions): OpsAgent {
  const o = options;
  const name = o.bundle.EDGE_NAME;
  const controller = new AbortController();
  const signal = controller.signal;
  let settleFirst!: (outcome: Error | undefined) => void;
  let firstSettled = false;
  const firstContact = new Promise<Error | undefined>((resolve) =>
    settleFirst = (outcome) => {
      if (firstSettled) return;
      firstSettled = true;
      resolve(outcome);
    }
  );
  const backoffCap = Math.min(BACKOFF_CAP_MS, o.checkinIntervalMs);
  const base = opsBaseUrl(o.bundle.OPSCENTER_HOST, o.plainHttp);
  const client = new OpsClient({ base, edgeName: name, fetch: o.fetch, now: o.now, signal });
  let session: OpsSession;
  let saving: Promise<void> = Promise.resolve();
  let savedAt = 0;
  let refused = false;
  let uploader: LogUploader | undefined;
  const uploadStop = new AbortController();
  let assigned: string | null | undefined;
  /** The follow of an assigned pipeline under way. */
  let following: Promise<void> | undefined;
  const status: OpsSyncStatus = {
    edgeName: name,
    opsHost: o.bundle.OPSCENTER_HOST,
    joined: false,
    lastContact: null,
    lastCheckIn: null,
    lastUpload: null,
    uploadedRows: 0,
    lastError: null,
    refused: null,
  };

  /**
   * Saves the session after any save under way (check-ins and uploads both write it); a failure is reported, or,
   * `mustWrite`, thrown to the caller instead.
   */
  const save = (mustWrite = false) => {
    const snapshot = { ...session };
    savedAt = o.now();
    const written = saving.then(() => saveSession(o.dir, snapshot));
    saving = written.catch((err) => {
      if (!mustWrite) o.error(`Ops: writing the session file failed: ${errorText(err)}`);
    });
    return mustWrite ? written : saving;
  };
  const contact = (always: boolean) => {
    session.lastContact = o.now();
    status.lastContact = session.lastContact;
    status.lastError = null;
    if (always || o.now() - savedAt >= CONTACT_SAVE_MS) void save();
  };
  /** `byOps`: Ops said it (kept in the session file); else the edge's own clock did, which may be wrong at boot. */
  const refuse = async (err: OpsRefused, byOps = true) => {
    if (refused) return;
    refused = true;
    status.refused = err.code;
    uploadStop.abort();
    if (byOps && (err.code === "session_expired" || err.code === "unknown_edge")) {
      session.refused = err.code;
      await save();
    }
    const message = byOps
      ? `Ops refused edge '${name}': ${refusalAdvice(err.code, name)} (Ops said: ${err.message})`
      : `edge '${name}': this device's clock (${new Date(o.now()).toISOString()}) says its Ops session expired: ` +
        `no contact for over 7 days. If the clock is wrong, set it right (NTP) and start tern again: the session ` +
        `resumes; if it is right, ${NEW_BUNDLE_ADVICE}`;
    if (!firstSettled) settleFirst(new OpsRefused(message, err.code));
    else o.error(`${message}. Serving goes on without Ops sync.`);
  };
  /** Keeps an assignment that serves in the session: a restart while Ops is away serves it, not the bundle's. */
  const keepAssignment = (pipelineUrl: string) => {
    if (session.assignedPipelineUrl === pipelineUrl) return;
    session.assignedPipelineUrl = pipelineUrl;
    void save();
  };
  const noteAssignment = (pipelineUrl: string | null) => {
    const serving = o.state().pipelineUrl;
    const news = pipelineUrl !== assigned;
    assigned = pipelineUrl;
    if (!pipelineUrl) return;
    if (pipelineUrl === serving) return keepAssignment(pipelineUrl);
    if (news) {
      o.info(`Ops assigns pipeline ${pipelineUrl} to edge '${name}' (serving ${serving ?? "the built-in demo"})`);
    }
    if (following) return; // the next check-in asks again
    // Pulled, loaded and swapped in beside the serving one; a failure leaves the old one serving, and the next
    // check-in asks again (the updater does not pull again a version that failed to load).
    following = o.follow?.(pipelineUrl)
      .then(() => {
        if (o.state().pipelineUrl === pipelineUrl) keepAssignment(pipelineUrl);
      })
      .catch((err) => o.error(`following the pipeline Ops assigned: ${errorText(err)}`))
      .finally(() => following = undefined);
  };

  /**
   * Keeps the session's row-id reservation above `lastId` before a page ending there is sent: saved first, as Ops
   * may store a page whose reply never arrives. A ROW_ID_BLOCK at a time, so the file is written once per block.
   */
  const reserveRowIds = async (lastId: number) => {
    const reserved = session.rowIdsReserved;
    if (reserved !== undefined && lastId < reserved) return;
    session.rowIdsReserved = lastId + ROW_ID_BLOCK;
    await save(true).catch((err) => {
      session.rowIdsReserved = reserved;
      throw new Error(
        `the session file could not be written (${errorText(err)}); no log page goes to Ops until it can, so ` +
          "that a log started afresh under this session cannot reuse row ids Ops holds",
      );
    });
  };

  /** Joins with the bundle's token (retrying while Ops is unreachable). */
  const join = async (key: EdgeKey): Promise<boolean> => {
    const backoff = new Backoff(BACKOFF_BASE_MS, backoffCap, o.random);
    while (!signal.aborted) {
      try {
        const reply = await client.join(key, {
          edge_name: name,
          join_token: o.bundle.JOIN_TOKEN,
          workspace_id: o.bundle.WORKSPACE_ID,
          bundle_version: o.bundle.BUNDLE_VERSION,
          tern_version: o.version,
        });
        session = { ...session, edgeId: reply.edge_id, joinedAt: o.now(), lastContact: o.now() };
        Object.assign(status, { joined: true, lastContact: session.lastContact, lastError: null });
        await save();
        o.info(ATTESTATION_LINE);
        o.info(`Ops: edge '${name}' joined ${base.host} (workspace ${reply.workspace_id}); session kept in ${o.dir}`);
        settleFirst(undefined);
        noteAssignment(reply.pipeline_url);
        return true;
      } catch (err) {
        if (err instanceof OpsRefused) {
          await refuse(err);
          return false;
        }
        if (signal.aborted) return false;
        status.lastError = errorText(err);
        if (backoff.failures === 0) {
          o.error(`Ops: joining failed: ${errorText(err)}; retrying with backoff (serving goes on)`);
        }
        await sleep(backoff.next(), signal);
      }
    }
    return false;
  };

  /** Rows the storage cap evicted before Ops had them, as last read (those before this start were said then). */
  let lostToCap: number | undefined;
  const checkInRequest = async (): Promise<CheckInRequest> => {
    const state = o.state();
    const evicted = o.log ? await o.log.evictedUnsent() : 0;
    if (lostToCap !== undefined && evicted > lostToCap) {
      o.error(
        `Ops: LOCAL_INFERENCE_STORAGE evicted ${evicted - lostToCap} log rows before Ops had them (${evicted} since ` +
          "the log was created): they will not reach Ops; raise the cap, or bring the link to Ops back sooner",
      );
    }
    lostToCap = evicted;
    return {
      status: state.status,
      pipeline_name: state.pipelineName,
      pipeline_url: state.pipelineUrl,
      pipeline_version: state.pipelineVersion,
      backlog_rows: o.log ? await o.log.backlog() : 0,
      evicted_rows: evicted,
      tern_version: o.version,
    };
  };

  /** Checks in now and every interval until stopped or refused. */
  const checkIns = async (key: EdgeKey) => {
    const backoff = new Backoff(BACKOFF_BASE_MS, backoffCap, o.random);
    while (!signal.aborted && !refused) {
      try {
        const reply = await client.checkIn(key, await checkInRequest());
        contact(true);
        status.lastCheckIn = status.lastContact;
        settleFirst(undefined);
        if (backoff.failures > 0) o.info(`Ops: check-in to ${base.host} succeeded again`);
        backoff.reset();
        o.debug?.(`ops: checked in to ${base.host}`);
        noteAssignment(reply.pipeline_url);
        await sleep(o.checkinIntervalMs, signal);
      } catch (err) {
        if (err instanceof OpsRefused) return await refuse(err);
        if (signal.aborted) return;
        status.lastError = errorText(err);
        if (backoff.failures === 0) {
          o.error(`Ops: check-in failed: ${errorText(err)}; retrying with backoff (serving goes on)`);
        }
        await sleep(backoff.next(), signal);
      }
    }
  };

  const run = async () => {
    const tokenSha256 = await tokenHash(o.bundle.JOIN_TOKEN);
    const stored = await loadSession(o.dir);
    const sameBundle = stored !== undefined && await isSessionOf(stored, o.bundle);
    if (sameBundle && stored.edgeId !== null) {
      session = stored;
      Object.assign(status, { joined: true, lastContact: stored.lastContact });
      if (stored.refused) {
        return await refuse(
          new OpsRefused("it refused this session before; this edge kept that", stored.refused as "session_expired"),
        );
      }
      if (sessionExpired(stored, o.now())) {
        // Not kept: a clock far ahead at boot (before NTP) must not end a session Ops would still take.
        return await refuse(new OpsRefused("no contact for over 7 days (edge clock)", "session_expired"), false);
      }
      o.info(
        `Ops: edge '${name}' resumes its session with ${base.host} (joined ${
          new Date(stored.joinedAt ?? 0).toISOString()
        }); the join token is not sent again`,
      );
    } else {
      // A new bundle (or a join cut short: then the same key asks again).
      session = sameBundle ? stored : {
        version: 1,
        edgeName: name,
        opsHost: o.bundle.OPSCENTER_HOST,
        tokenSha256,
        ...await newKeyPair(),
        edgeId: null,
        joinedAt: null,
        lastContact: null,
      };
      // The join binds the token to this key for good: a key that was not kept would lock the edge out.
      await save(true).catch((err) => {
        throw new Error(
          `Ops: the edge's key could not be written to ${o.dir} (${errorText(err)}); ` +
            "not joining, so the JOIN_TOKEN stays unused for a start that can write it",
        );
      });
    }
    const key: EdgeKey = { key: await signingKey(session), publicJwk: session.publicJwk };
    if (session.edgeId === null && !await join(key)) return;
    const edgeId = session.edgeId!;
    let uploading: Promise<void> = Promise.resolve();
    if (o.log) {
      const log = o.log;
      uploader = new LogUploader({
        log,
        send: (page) =>
          reserveRowIds(page.lastId).then(() => client.upload(key, edgeId, page)).catch((err) => {
            if (!signal.aborted) status.lastError = errorText(err);
            throw err;
          }),
        partition: name,
        pageRows: o.pageRows,
        lingerMs: o.lingerMs ?? 1000,
        trialMs: o.trialMs,
        idleMs: o.checkinIntervalMs,
        backoff: new Backoff(BACKOFF_BASE_MS, backoffCap, o.random),
        signal: AbortSignal.any([signal, uploadStop.signal]),
        onUploaded: () => {
          contact(false);
          status.lastUpload = status.lastContact;
          status.uploadedRows = uploader?.uploadedRows ?? status.uploadedRows;
          settleFirst(undefined);
        },
        onRefused: (err) => void refuse(err),
        info: o.info,
        error: o.error,
        debug: o.debug,
      });
      o.onCommit?.(() => uploader?.wake());
      uploading = uploader.run();
    }
    await Promise.all([checkIns(key), uploading]);
  };

  const done = run().catch((err) => {
    const message = err instanceof OpsUnavailable ? err.message : `Ops sync failed: ${errorText(err)}`;
    if (!firstSettled) settleFirst(new Error(message));
    else o.error(message);
  });

  return {
    firstContact,
    status,
    stop: async () => {
      controller.abort();
      await done;
      await saving;
    },
  };
}
