// SWIFT "X" character set: the only characters a FIN text field may carry.
import { swiftX } from "../../validation/charset.js";

/** The first character outside the X set, described for an error message, or undefined. */
export function findNonXCharacter(text: string): { character: string; description: string; index: number } | undefined {
  let index = 0;
  for (const character of text) {
    if (!swiftX.allowed.test(character)) {
      const codePoint = character.codePointAt(0) ?? 0;
      const hex = codePoint.toString(16).toUpperCase().padStart(4, "0");
      const shown = codePoint < 0x20 || codePoint === 0x7f ? "" : `'${character}' `;
      return { character, description: `${shown}(U+${hex})`, index };
    }
    index += 1;
  }
  return undefined;
}
