/**
 * @module
 * Whether the serving thread's event loop turns while a run is under way: a model run on this thread holds it for
 * the whole run, so a 1 ms timer cannot fire meanwhile.
 */

/** Awaits `run` while a 1 ms timer counts its ticks; the run's value and the ticks. */
export async function timerTicksDuring<T>(run: () => Promise<T>): Promise<{ value: T; ticks: number }> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  try {
    return { value: await run(), ticks };
  } finally {
    clearInterval(timer);
  }
}
