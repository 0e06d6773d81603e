/**
 * The `/logs` query body (the edge's and the hub's): times as ms since the epoch or ISO 8601 text as JavaScript and
 * Python write it; any other text is a 400 naming the filter, never a time guessed from it.
 */
import { parseLogQuery } from "../../src/codec/log_filter.ts";
import { assertEquals, assertThrows } from "../support/assert.ts";

Deno.test("log query times: ms, toISOString, isoformat with microseconds and an offset, a date alone", () => {
  const at = Date.UTC(2026, 11, 3, 12, 30, 15, 250);
  assertEquals(parseLogQuery(JSON.stringify({ start: at, end: new Date(at).toISOString() })), {
    start: at,
    end: at,
    after: undefined,
    limit: undefined,
  });
  assertEquals(parseLogQuery(`{"start": "2026-12-03T13:30:15.250123+01:00"}`).start, at);
  assertEquals(parseLogQuery(`{"start": "2026-12-03"}`).start, Date.UTC(2026, 11, 3));
  assertEquals(parseLogQuery(`{"end": "2026-12-03T12:30Z"}`).end, Date.UTC(2026, 11, 3, 12, 30));
  assertEquals(parseLogQuery(`{"end": "2026-12-03t13:30+0100"}`).end, Date.UTC(2026, 11, 3, 12, 30));
});

Deno.test("log query times: text that is not ISO 8601 is a bad_filter naming the filter, never a guessed year", () => {
  for (
    const text of ["1", "x 2030", "hello 5", "1796301094685", "Dec 3 2026", "2026-13-01", "", "2026-12-03+01:00"]
  ) {
    assertThrows(() => parseLogQuery(JSON.stringify({ start: text })), {
      name: "BadInput",
      code: "bad_filter",
      message: `'start' must be ms since the epoch or an ISO 8601 time, got ${JSON.stringify(text)}`,
    });
  }
});

Deno.test("filters in the query string are refused by name, not ignored", () => {
  assertEquals(parseLogQuery("", ""), {});
  assertThrows(() => parseLogQuery("", "?limit=2&start=x"), {
    name: "BadInput",
    code: "bad_filter",
    message:
      `log filters are read from the JSON body, not the query string ('limit', 'start'): send e.g. {"limit": 100}`,
  });
});
