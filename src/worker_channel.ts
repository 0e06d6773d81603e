/**
 * @module
 * Request/reply over a module Worker: each call gets a numbered request and
 * resolves with the reply carrying its number. Once the worker dies, every
 * waiting and later call fails at once, naming why. Used by the log store
 * (logs/store.ts) and the models' worker threads (engine/off_thread.ts);
 * their workers answer with `answerRequests`.
 */

/**
 * The web Worker, taken when this module loads: onnxruntime-web's pthread glue, once its WASM runtime starts,
 * replaces `globalThis.Worker` with node's worker_threads Worker (Emscripten's node path), under which a module
 * worker never starts and a call made to it never returns (a native model loaded after a WASM one hung).
 */
const WebWorker = globalThis.Worker;

/** A started worker and its request channel. */
export interface WorkerChannel<Request, Reply> {
  /** Sends `request` (numbered here) and waits for its reply. */
  call(request: Request): Promise<Reply>;
  /** True once the worker has died. */
  readonly failed: boolean;
  /** Stops the worker. */
  terminate(): void;
}

/**
 * Starts the module worker at `url`. `errorOf` turns a reply into the error
 * its call should throw, or undefined for a success; `what` names the worker
 * in the error when it dies.
 */
export function startWorkerChannel<Request extends object, Reply extends { id: number }>(
  url: URL,
  what: string,
  errorOf: (reply: Reply) => Error | undefined,
): WorkerChannel<Request, Reply> {
  const worker = new WebWorker(url, { type: "module" });
  let nextId = 1;
  let failure: Error | undefined;
  const waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  worker.onmessage = (e: MessageEvent<Reply>) => {
    const w = waiting.get(e.data.id);
    waiting.delete(e.data.id);
    if (!w) return;
    const error = errorOf(e.data);
    if (error) w.reject(error);
    else w.resolve(e.data);
  };
  const fail = (message: string) => {
    failure = new Error(`${what} failed: ${message}`);
    for (const w of waiting.values()) w.reject(failure);
    waiting.clear();
  };
  worker.onerror = (e) => {
    e.preventDefault();
    fail(e.message);
  };
  worker.onmessageerror = () => fail("a message could not be read");
  return {
    call(request) {
      if (failure) return Promise.reject(failure);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker.postMessage({ ...request, id });
      });
    },
    get failed() {
      return failure !== undefined;
    },
    terminate: () => worker.terminate(),
  };
}

/**
 * Inside a worker: answers each request with `handle`'s reply under the
 * request's id, or with `{ error: errorOf(thrown) }` when it throws. One
 * request at a time, in arrival order.
 */
export function answerRequests<Request extends { id: number }, Reply extends object>(
  handle: (request: Request) => Promise<Reply>,
  errorOf: (err: unknown) => unknown,
): void {
  const scope = globalThis as unknown as {
    onmessage: ((e: MessageEvent<Request>) => void) | null;
    postMessage(message: unknown): void;
  };
  let tail = Promise.resolve();
  scope.onmessage = (e) => {
    const request = e.data;
    tail = tail.then(async () => {
      try {
        scope.postMessage({ id: request.id, ...(await handle(request)) });
      } catch (err) {
        scope.postMessage({ id: request.id, error: errorOf(err) });
      }
    });
  };
}
