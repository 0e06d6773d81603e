/**
 * @module
 * How `tern serve` stops on SIGTERM or SIGINT: it stops accepting connections, lets the requests in flight finish
 * (at most DRAIN_MS), then closes the rest in order (Ops sync, the inference log, which commits what is queued, the
 * pipeline updater, the models once a load under way has finished; at most CLOSE_MS together, plus what the drain
 * left unused) and exits 0, so it is gone within STOP_BOUND_MS, inside
 * `docker stop`'s 10 s. A second signal exits at once (128 + its number).
 */
import { errorText } from "./errors.ts";

/** Longest wait for the requests in flight once a stop signal arrived. */
export const DRAIN_MS = 7_000;
/**
 * Longest wait for the remaining steps together (the log's last commit among them), plus what the drain left of
 * DRAIN_MS: a model load under way at the signal (start-up, an update) may need it, and a process that exits
 * mid-load can crash (SIGSEGV seen while a first model was being timed in its worker).
 */
export const CLOSE_MS = 2_000;
/** What the README promises: tern has exited this long after the first signal. */
export const STOP_BOUND_MS = DRAIN_MS + CLOSE_MS + 1_000;

const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15 } as const;

/** One step of the stop, named for the message when it fails or runs out of time. */
export interface StopStep {
  name: string;
  run: () => unknown;
}

/**
 * Runs `drain` within DRAIN_MS, then `steps` in order within CLOSE_MS in all, plus what the drain left unused.
 * Resolves to the exit code: 0 when everything finished in time, 1 when a step failed or was cut off (each reported
 * through `error`).
 */
export async function stopInOrder(drain: StopStep, steps: StopStep[], error: (line: string) => void): Promise<number> {
  let code = 0;
  const within = async (step: StopStep, deadline: number) => {
    let timer: number | undefined;
    const late = new Promise<"late">((resolve) => timer = setTimeout(() => resolve("late"), deadline - Date.now()));
    try {
      if (await Promise.race([Promise.resolve().then(step.run), late]) === "late") {
        error(`while stopping: ${step.name} did not finish in time; cut off`);
        code = 1;
      }
    } catch (err) {
      error(`while stopping: ${step.name}: ${errorText(err)}`);
      code = 1;
    } finally {
      clearTimeout(timer);
    }
  };
  const started = Date.now();
  await within(drain, started + DRAIN_MS);
  const deadline = started + DRAIN_MS + CLOSE_MS;
  for (const step of steps) await within(step, deadline);
  return code;
}

/** Calls `stop` on the first SIGINT or SIGTERM; a second one exits at once with 128 + its number. */
export function onStopSignals(stop: (signal: string) => unknown, error: (line: string) => void): void {
  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => {
      if (stopping) {
        error(`${signal} again: exiting at once`);
        Deno.exit(128 + SIGNAL_NUMBERS[signal]);
      }
      stopping = true;
      stop(signal);
    });
  }
}
