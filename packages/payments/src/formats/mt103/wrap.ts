import { Mt103Error } from "./errors.js";

/** SWIFT `x` lines in fields such as 50K, 59 and 70 are at most 35 characters. */
export const swiftLineLengthMax = 35;

/**
 * Word-wraps free text into lines of at most 35 characters (a word longer than a line is split),
 * and throws rather than truncate when more than `linesMax` lines would be needed.
 */
export function wrapSwiftLines(text: string, field: string, linesMax = 4): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split(/\r?\n/)) {
    let line = "";
    for (let word of paragraph.split(" ")) {
      while (word.length > swiftLineLengthMax) {
        if (line !== "") lines.push(line);
        line = "";
        lines.push(word.slice(0, swiftLineLengthMax));
        word = word.slice(swiftLineLengthMax);
      }
      if (line === "") line = word;
      else if (line.length + 1 + word.length <= swiftLineLengthMax) line = `${line} ${word}`;
      else {
        lines.push(line);
        line = word;
      }
    }
    if (line !== "") lines.push(line);
  }
  if (lines.length > linesMax) {
    throw new Mt103Error([
      {
        code: "length",
        location: `block 4, field ${field}`,
        message: `text needs ${lines.length} lines of ${swiftLineLengthMax} characters; at most ${linesMax} are allowed (${linesMax * swiftLineLengthMax} characters), and it is not truncated`,
      },
    ]);
  }
  return lines;
}
