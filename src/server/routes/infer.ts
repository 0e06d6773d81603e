/**
 * @module
 * `POST /infer` and `POST /pipelines/{name}`: decode the body (pandas-records
 * or Arrow), run the pipeline, reply in the Wallaroo shape (pandas-records, or
 * Arrow when the Accept header asks for it).
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { BadInput, NotFound, PayloadTooLarge, Unavailable } from "../../errors.ts";
import { decodeArrow } from "../../codec/arrow_input.ts";
import { encodeArrowReply } from "../../codec/arrow_reply.ts";
import { ARROW_MEDIA_TYPE, arrowReplyFormat, PANDAS_RECORDS, requestFormat } from "../../codec/media.ts";
import { decodePandasRecords } from "../../codec/pandas_records.ts";
import { encodeRecordsReply, type InferenceReply } from "../../codec/reply.ts";
import { runPipeline } from "../../pipeline/loaded.ts";
import type { AppDeps } from "../app.ts";
import { errorResponse } from "../error_response.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Inference routes. */
export function inferRoutes({ pipelines, now, maxBodyBytes, logs }: AppDeps): Hono {
  const limit = bodyLimit({
    maxSize: maxBodyBytes,
    onError: () =>
      errorResponse(
        new PayloadTooLarge(
          `request body is larger than the limit of ${maxBodyBytes} bytes`,
        ),
      ),
  });

  const infer = async (
    body: Uint8Array,
    contentType?: string,
    accept?: string,
    name?: string,
  ) => {
    const time = now();
    const pipeline = pipelines.current;
    if (!pipeline) {
      throw new Unavailable(
        `pipeline is ${pipelines.status}${pipelines.error ? `: ${pipelines.error}` : ""}`,
      );
    }
    if (name !== undefined && name !== pipeline.name) {
      throw new NotFound(
        `pipeline '${name}' not found; this engine serves '${pipeline.name}'`,
      );
    }
    if (body.length === 0) {
      throw new BadInput(
        "request body is empty: send pandas-records JSON or an Arrow IPC file",
        "empty_body",
      );
    }
    const t0 = performance.now();
    const specs = pipeline.steps[0].session.inputs;
    const input = requestFormat(contentType, body) === "arrow"
      ? decodeArrow(body, specs, maxBodyBytes) // a compressed body expands to at most the request size limit
      : decodePandasRecords(decodeUtf8(body), specs);
    const decodeNs = Math.round((performance.now() - t0) * 1e6);
    const run = await runPipeline(pipeline, input.tensors, input.rows);
    const last = pipeline.steps[pipeline.steps.length - 1];
    const reply: InferenceReply = {
      pipelineName: pipeline.name,
      modelName: last.name,
      modelVersion: last.version,
      time,
      elapsedNs: [decodeNs, ...run.stepNs],
      outputs: run.outputs,
      input,
    };
    // Durable logging: the reply leaves only once its rows are committed (group commit); it is
    // encoded while the commit is under way.
    const logged = logs?.writer.append({ reply, pipelineVersion: pipeline.version, modelSha: last.sha256 });
    let response: Response;
    try {
      const arrow = arrowReplyFormat(accept);
      response = arrow
        ? new Response(encodeArrowReply(reply, arrow) as Uint8Array<ArrayBuffer>, {
          headers: { "content-type": ARROW_MEDIA_TYPE[arrow] },
        })
        : new Response(encodeRecordsReply(reply), { headers: { "content-type": PANDAS_RECORDS } });
    } catch (err) {
      await logged?.catch(() => {}); // the encoding error is the one to report
      throw err;
    }
    await logged;
    return response;
  };

  const handle = async (req: Request, name?: string) =>
    infer(
      new Uint8Array(await req.arrayBuffer()),
      req.headers.get("content-type") ?? undefined,
      req.headers.get("accept") ?? undefined,
      name,
    );

  return new Hono()
    .post("/infer", limit, (c) => handle(c.req.raw))
    .post(
      "/pipelines/:name",
      limit,
      (c) => handle(c.req.raw, c.req.param("name")),
    );
}

function decodeUtf8(body: Uint8Array): string {
  try {
    return utf8.decode(body);
  } catch {
    throw new BadInput("body is not valid UTF-8 JSON", "invalid_json");
  }
}
