// Prints every note alphaTab (the engine of many web tab players) reads from Guitar Pro 3-5
// files, one line per note, in the same form as TuxGuitarNotes.java, so that the tab codec's
// tests can compare what alphaTab sees with what the project wrote.
//
//   ALPHATAB=/path/to/node_modules/@coderline/alphatab node alphatab_notes.mjs [--track N] a.gp5 …
//
// Per file: "file PATH", then "tuning P1 P2 …" (highest string first) and one
// "note TICK STRING FRET PITCH KIND" per note of the track asked for (first non-percussion track
// by default; --track counts from 1): TICK at 960 a quarter from the first bar, STRING counted
// from the highest (1), KIND normal, tie or dead; "error MESSAGE" when alphaTab refuses the file.

import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { join } from "node:path";

const root = process.env.ALPHATAB;
if (!root) {
  console.error("set ALPHATAB to the folder of the @coderline/alphatab package");
  process.exit(2);
}
const alphaTab = await import(pathToFileURL(join(root, "dist", "alphaTab.mjs")).href);
alphaTab.Logger.logLevel = alphaTab.LogLevel.None;

let wanted = 0;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--track") {
    wanted = Number(args[++i]);
    continue;
  }
  console.log(`file ${args[i]}`);
  let score;
  try {
    score = alphaTab.importer.ScoreLoader.loadScoreFromBytes(new Uint8Array(readFileSync(args[i])));
  } catch (error) {
    const cause = error.cause ? ` (${error.cause.message ?? error.cause})` : "";
    console.log(`error ${String(error.message ?? error).split("\n")[0]}${cause}`);
    continue;
  }
  const tracks = score.tracks.filter((t, n) => (wanted ? n + 1 === wanted : !t.isPercussion));
  if (!tracks.length) {
    console.log("error no such track");
    continue;
  }
  const staff = tracks[0].staves[0];
  const strings = staff.tuning.length;
  console.log(`tuning ${staff.tuning.join(" ")}`);
  const origin = score.masterBars.length ? score.masterBars[0].start : 0;
  for (const bar of staff.bars) {
    for (const voice of bar.voices) {
      for (const beat of voice.beats) {
        for (const note of beat.notes) {
          // alphaTab counts strings from the lowest (1); Guitar Pro from the highest
          const string = strings - note.string + 1;
          const kind = note.isTieDestination ? "tie" : note.isDead ? "dead" : "normal";
          const tick = beat.absolutePlaybackStart - origin;
          console.log(
            `note ${tick} ${string} ${note.fret} ${note.realValueWithoutHarmonic} ${kind}`,
          );
        }
      }
    }
  }
}
