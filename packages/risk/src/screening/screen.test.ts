import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { adjustments } from "./evidence.js";
import { readSdnDirectory } from "./read-sdn-directory.js";
import { type ScreeningCandidate, screen, screenExhaustive, thresholdDefault } from "./screen.js";
import { ScreeningError } from "./screening-error.js";
import { createScreeningIndex, type ScreeningIndex } from "./screening-index.js";

const testList = fileURLToPath(new URL("../../testdata/sanctions/", import.meta.url));
const putinId = 90001;

let index: ScreeningIndex;

beforeAll(async () => {
  index = createScreeningIndex(await readSdnDirectory(testList));
});

function find(candidates: ScreeningCandidate[], id: number): ScreeningCandidate | undefined {
  return candidates.find((candidate) => candidate.id === id);
}

describe("screen", () => {
  it.each(["Vladimir PUTIN", "putin vladimir", "Vladímir Pútin", "PUTIN, Vladimir Vladimirovich", "Wladimir Putin"])(
    "matches %s to the PUTIN entry above the default threshold",
    (name) => {
      const [best] = screen(index, { name });
      expect(best?.id).toBe(putinId);
      expect(best?.score).toBeGreaterThanOrEqual(thresholdDefault);
    },
  );

  it("scores the primary name alone above the threshold when the middle name is missing", () => {
    const scored = screen(index, { name: "Vladimir Putin" }, { limit: 1 });
    const nameOnly = screenExhaustive(createScreeningIndex([{ id: 1, name: "PUTIN, Vladimir Vladimirovich", type: "individual" }]), {
      name: "Vladimir Putin",
    });
    expect(scored[0]?.score).toBe(1);
    expect(nameOnly[0]?.score).toBeGreaterThan(0.9);
    expect(nameOnly[0]?.score).toBeLessThan(1);
  });

  it.each(["Vladimir Petrov", "John Smith", "Putnam Investments", "Vladimir"])("does not match %s to the PUTIN entry", (name) => {
    expect(find(screen(index, { name }, { limit: 100 }), putinId)).toBeUndefined();
    // Scored without blocking too, so the verdict is the scoring's, not the index's.
    expect(find(screenExhaustive(index, { name }, { limit: 100 }), putinId)).toBeUndefined();
  });

  it("matches the near misses to their own entries instead", () => {
    expect(screen(index, { name: "John Smith" })[0]?.id).toBe(90018);
    expect(screen(index, { name: "Alexander Petrov" })[0]?.id).toBe(90002);
  });

  it("reports the alias that matched", () => {
    const [best] = screen(index, { name: "Vladimir Poutine" });
    expect(best).toMatchObject({ id: putinId, name: "PUTIN, Vladimir Vladimirovich", matchedAlias: "POUTINE, Vladimir" });
    expect(best?.matchedPrimaryName).toBe(false);
    expect(best?.reasons[0]).toMatchObject({ kind: "name", effect: best?.nameScore });
  });

  it("reports the primary name when it is what matched", () => {
    const [best] = screen(index, { name: "Vladimir Vladimirovich Putin" });
    expect(best).toMatchObject({ matchedAlias: "PUTIN, Vladimir Vladimirovich", matchedPrimaryName: true, score: 1 });
  });

  it("ignores legal forms on both sides", () => {
    for (const name of ["Acme Trading LLC", "ACME TRADING", "Acme Trading, Ltd.", "acme trading co"]) {
      expect(screen(index, { name })[0]).toMatchObject({ id: 90003, score: 1 });
    }
    expect(screen(index, { name: "Romashka" })[0]?.id).toBe(90014);
    expect(screen(index, { name: "Global Maritime Shipping Company Limited" })[0]).toMatchObject({ id: 90004, score: 1 });
  });

  it("matches names written with or without their diacritics", () => {
    expect(screen(index, { name: "Jurgen Muller" })[0]).toMatchObject({ id: 90006, score: 1 });
    expect(screen(index, { name: "Jose Luis Garcia Lopez" })[0]).toMatchObject({ id: 90007, score: 1 });
    expect(screen(index, { name: "Bjorn Sorensen" })[0]).toMatchObject({ id: 90009, score: 1 });
    expect(screen(index, { name: "Jiri Dvorak" })[0]).toMatchObject({ id: 90010, score: 1 });
  });

  it("lowers the score when the query's type differs from the listed one", () => {
    const asPerson = screen(index, { name: "Vladimir Putin", type: "individual" })[0];
    const asEntity = screen(index, { name: "Vladimir Putin", type: "entity" })[0];
    expect(asPerson?.score).toBe(1);
    expect(asEntity?.score).toBeCloseTo(1 + adjustments.typeMismatch, 10);
    expect(asEntity?.reasons).toContainEqual({ kind: "type", effect: adjustments.typeMismatch, detail: "query entity, listed individual" });
    // A near match that passes as the right type fails as the wrong one.
    expect(find(screen(index, { name: "Akme Tradding", type: "entity" }), 90003)).toBeDefined();
    expect(find(screen(index, { name: "Akme Tradding", type: "individual" }), 90003)).toBeUndefined();
  });

  it("adds agreement on country and date of birth and subtracts disagreement", () => {
    const base = screen(index, { name: "Vladimir Putn" }, { threshold: 0 })[0];
    const agreeing = screen(index, { name: "Vladimir Putn", country: "RU", dateOfBirth: "1952-10-07" }, { threshold: 0 })[0];
    const disagreeing = screen(index, { name: "Vladimir Putn", country: "France", dateOfBirth: "1980" }, { threshold: 0 })[0];
    expect(base?.id).toBe(putinId);
    expect(agreeing?.id).toBe(putinId);
    const nameScore = base?.nameScore ?? 0;
    expect(agreeing?.score).toBeCloseTo(Math.min(1, nameScore + adjustments.countryMatch + adjustments.dateOfBirthExact), 10);
    expect(agreeing?.reasons.map((reason) => reason.kind)).toEqual(["name", "country", "dateOfBirth"]);
    const disagreeingPutin = screen(index, { name: "Vladimir Putn", country: "France", dateOfBirth: "1980" }, { threshold: 0, limit: 100 });
    expect(find(disagreeingPutin, putinId)?.score).toBeCloseTo(
      nameScore + adjustments.countryMismatch + adjustments.dateOfBirthMismatch,
      10,
    );
    // Disagreement lowers the entry's score but not below the other entries: it still ranks first.
    expect(disagreeing?.id).toBe(putinId);
    expect(disagreeing?.score).toBeLessThan(agreeing?.score ?? 0);
    expect(screen(index, { name: "Vladimir Putin", dateOfBirth: "1952" })[0]?.reasons).toContainEqual({
      kind: "dateOfBirth",
      effect: adjustments.dateOfBirthYear,
      detail: "year of birth agrees",
    });
  });

  it("lets a country or date of birth lift a name just under the threshold above it, and finds it through blocking", () => {
    const query = { name: "Vladimir Putn", country: "Russia", dateOfBirth: "1952-10-07" };
    const nameScore = screen(index, { name: query.name }, { threshold: 0 })[0]?.nameScore ?? 0;
    const threshold = nameScore + 0.01;
    expect(find(screen(index, { name: query.name }, { threshold }), putinId)).toBeUndefined();
    expect(find(screen(index, query, { threshold }), putinId)).toBeDefined();
  });

  it("takes a configurable threshold", () => {
    const loose = screen(index, { name: "Vladimir Petrov" }, { threshold: 0.7, limit: 100 });
    expect(find(loose, putinId)).toBeDefined();
    expect(loose.every((candidate) => candidate.score >= 0.7)).toBe(true);
    const strict = screen(index, { name: "Vladimir Poutin" }, { threshold: 0.999 });
    expect(strict).toEqual([]);
  });

  it("returns at most `limit` candidates, best first", () => {
    const all = screen(index, { name: "Vladimir Petrov" }, { threshold: 0, limit: 1000 });
    const three = screen(index, { name: "Vladimir Petrov" }, { threshold: 0, limit: 3 });
    expect(all.length).toBeGreaterThan(3);
    expect(three).toEqual(all.slice(0, 3));
    for (let i = 1; i < all.length; i++) expect(all[i - 1]?.score).toBeGreaterThanOrEqual(all[i]?.score ?? 0);
  });

  it("finds through blocking every match the exhaustive scan finds", () => {
    const queries = [
      "Vladimir PUTIN",
      "Wladimir Poutin",
      "Acme Tradeing",
      "Jurgen Mueller",
      "Abdallah Al Rasheed",
      "Chol Su Kim",
      "Wei Chang",
    ];
    for (const name of queries) {
      for (const threshold of [0.8, thresholdDefault]) {
        expect(screen(index, { name }, { threshold, limit: 100 })).toEqual(screenExhaustive(index, { name }, { threshold, limit: 100 }));
      }
    }
  });

  it("finds a match carried by a short token, which blocking on long tokens only would lose", () => {
    const small = createScreeningIndex([{ id: 7, name: "LI, Wen", type: "individual" }]);
    const exhaustive = screenExhaustive(small, { name: "Wei Li" });
    expect(exhaustive.map((candidate) => candidate.id)).toEqual([7]);
    expect(screen(small, { name: "Wei Li" })).toEqual(exhaustive);
  });

  it("rejects bad queries and options with a clear error", () => {
    const bad = [
      () => screen(index, { name: "" }),
      () => screen(index, { name: "x".repeat(513) }),
      () => screen(index, { name: "Putin", dateOfBirth: "07 Oct 1952" }),
      () => screen(index, { name: "Putin", dateOfBirth: "1952-02-30" }),
      () => screen(index, { name: "Putin" }, { threshold: 1.5 }),
      () => screen(index, { name: "Putin" }, { limit: 0 }),
      () => screen(index, { name: "Putin" }, { limit: 1001 }),
    ];
    for (const run of bad) expect(run).toThrow(ScreeningError);
  });
});

describe("createScreeningIndex", () => {
  it("refuses duplicate entry ids", () => {
    const entries = [
      { id: 1, name: "A", type: "entity" as const },
      { id: 1, name: "B", type: "entity" as const },
    ];
    expect(() => createScreeningIndex(entries)).toThrow("entry id 1 appears twice");
  });

  it("indexes an alias that normalises like the primary name once", () => {
    const built = createScreeningIndex([{ id: 1, name: "ACME TRADING LLC", type: "entity", aliases: [{ name: "Acme Trading, L.L.C." }] }]);
    expect(built.nameCount).toBe(1);
  });
});
