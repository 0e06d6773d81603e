/**
 * @module
 * Figures for servers to be compared with each other, measured in turns: every side once per round, the order
 * turned each round, `rounds` rounds; each side's figure is its median round by req/s. On a shared machine
 * load drifts by tens of percent within minutes: measured minutes apart, two lines' ratio is mostly that drift;
 * measured in turns, the drift falls on every side alike. The servers run side by side (an idle one takes no
 * CPU).
 */
import type { Figures, Where } from "./load.ts";
import { wrkMeasure } from "./wrk.ts";

/** One server to measure: where its figures are filed, and its URL. */
export interface Side {
  where: Where;
  url: string;
}

/** Each side's median figures, in the order given. */
export async function measureInTurns(
  sides: readonly Side[],
  request: { contentType: string; body: string | Uint8Array; seconds: number },
  rounds: number,
): Promise<Figures[]> {
  const runs: Figures[][] = sides.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < sides.length; k++) {
      const i = (k + round) % sides.length;
      runs[i].push(await wrkMeasure(sides[i].where, { url: sides[i].url, ...request }));
    }
  }
  return runs.map((figures) => [...figures].sort((a, b) => a.perSecond - b.perSecond)[figures.length >> 1]);
}
