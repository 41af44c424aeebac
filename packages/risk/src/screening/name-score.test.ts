import { describe, expect, it } from "vitest";
import { jaroWinkler } from "./jaro-winkler.js";
import { scoreNameTokens } from "./name-score.js";

function score(query: string, candidate: string): number {
  const q = query.split(" ");
  const c = candidate.split(" ");
  return scoreNameTokens(q, c, (i, j) => jaroWinkler(q[i] as string, c[j] as string));
}

describe("scoreNameTokens", () => {
  it("ignores word order", () => {
    expect(score("putin vladimir", "vladimir putin")).toBe(1);
  });

  it("charges little for a missing middle name", () => {
    const missing = score("vladimir putin", "vladimir vladimirovich putin");
    expect(missing).toBeCloseTo(13 / 14.3, 10);
    expect(score("vladimir vladimirovich putin", "vladimir putin")).toBeCloseTo(missing, 10);
  });

  it("charges a lot when only one of several tokens pairs", () => {
    expect(score("vladimir", "vladimir putin")).toBeLessThan(0.85);
  });

  it("uses each list token once", () => {
    // Without the no-reuse rule both query tokens would pair with "ivan".
    expect(score("ivan ivan", "ivan petrov")).toBeLessThan(0.8);
  });

  it("weights pairs by length, so a long token's similarity counts more", () => {
    expect(score("a putin", "b putin")).toBeGreaterThan(score("alexandra putin", "bernadette putin"));
  });
});
