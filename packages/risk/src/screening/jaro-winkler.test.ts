import { describe, expect, it } from "vitest";
import { jaro, jaroWinkler } from "./jaro-winkler.js";

describe("jaroWinkler", () => {
  // Winkler (1990) and the Wikipedia article's worked examples.
  it.each([
    ["MARTHA", "MARHTA", 0.9611],
    ["DWAYNE", "DUANE", 0.84],
    ["DIXON", "DICKSONX", 0.8133],
    ["JELLYFISH", "SMELLYFISH", 0.8963],
  ])("%s / %s = %f", (a, b, expected) => {
    expect(jaroWinkler(a, b)).toBeCloseTo(expected, 4);
    expect(jaroWinkler(b, a)).toBeCloseTo(expected, 4);
  });

  it("gives the published Jaro values before the prefix bonus", () => {
    expect(jaro("MARTHA", "MARHTA")).toBeCloseTo(0.9444, 4);
    expect(jaro("DWAYNE", "DUANE")).toBeCloseTo(0.8222, 4);
    expect(jaro("DIXON", "DICKSONX")).toBeCloseTo(0.7667, 4);
  });

  it("is 1 for equal strings and 0 when nothing matches or one side is empty", () => {
    expect(jaroWinkler("putin", "putin")).toBe(1);
    expect(jaroWinkler("abc", "xyz")).toBe(0);
    expect(jaroWinkler("", "abc")).toBe(0);
    expect(jaroWinkler("", "")).toBe(1);
  });

  it("caps the rewarded prefix at four characters", () => {
    // Same Jaro, prefixes of 4 and 6: the bonus is the same.
    const four = jaroWinkler("abcdxy", "abcdyx");
    const jaroValue = jaro("abcdxy", "abcdyx");
    expect(four).toBeCloseTo(jaroValue + 0.4 * (1 - jaroValue), 10);
    const longer = jaroWinkler("abcdefgxy", "abcdefgyx");
    const longerJaro = jaro("abcdefgxy", "abcdefgyx");
    expect(longer).toBeCloseTo(longerJaro + 0.4 * (1 - longerJaro), 10);
  });

  it("handles strings longer than its scratch buffers", () => {
    const a = "x".repeat(300);
    expect(jaroWinkler(a, `${a}y`)).toBeGreaterThan(0.99);
  });
});
