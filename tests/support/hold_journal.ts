/**
 * @module
 * A second process for the journal's lock test: opens the log journal at `Deno.args[0]`, prints "held", and keeps
 * it until its stdin closes.
 */
import { LogJournal } from "../../src/logs/journal.ts";

const { journal } = LogJournal.open(Deno.args[0], 0);
console.log("held");
for await (const _ of Deno.stdin.readable) { /* until the parent closes stdin */ }
await journal.close();
