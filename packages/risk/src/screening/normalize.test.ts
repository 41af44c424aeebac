import { describe, expect, it } from "vitest";
import { foldText, nameTokens, normalizeName } from "./normalize.js";

describe("foldText", () => {
  it("folds case, strips diacritics and turns punctuation into single spaces", () => {
    expect(foldText("Vladímir Pútin")).toBe("vladimir putin");
    expect(foldText("  MÜLLER,   Jürgen -- GARCÍA-LÓPEZ ")).toBe("muller jurgen garcia lopez");
    expect(foldText("Straße Øresund Łódź İstanbul ΣΟΦΟΣ")).toBe("strasse oresund lodz istanbul σοφοσ");
    expect(foldText("Ｆｕｌｌｗｉｄｔｈ")).toBe("fullwidth");
  });

  it("drops apostrophes and joins dotted abbreviations", () => {
    expect(foldText("O'Brien D’Arcy")).toBe("obrien darcy");
    expect(foldText("BANCO S.A. and L.L.C. and J. Smith")).toBe("banco sa and llc and j smith");
  });
});

describe("nameTokens", () => {
  it("puts OFAC's 'LAST, First' in reading order", () => {
    expect(normalizeName("PUTIN, Vladimir Vladimirovich", "individual")).toBe("vladimir vladimirovich putin");
  });

  it("removes legal forms at the end and the start, but keeps a comma before a legal form in place", () => {
    expect(nameTokens("Acme Trading LLC")).toEqual(["acme", "trading"]);
    expect(nameTokens("GLOBAL MARITIME SHIPPING CO., LTD.")).toEqual(["global", "maritime", "shipping"]);
    expect(nameTokens("BANCO EJEMPLO DE VENEZUELA, S.A.")).toEqual(["banco", "ejemplo", "de", "venezuela"]);
    expect(nameTokens("OOO ROMASHKA")).toEqual(["romashka"]);
    expect(nameTokens("LIMITED LIABILITY COMPANY ROMASHKA")).toEqual(["romashka"]);
    expect(nameTokens("NEFTEGAZ EXAMPLE OPEN JOINT STOCK COMPANY")).toEqual(["neftegaz", "example"]);
    expect(nameTokens("Nordstern Handels GmbH")).toEqual(["nordstern", "handels"]);
  });

  it("never strips a name to nothing, and leaves people's names alone", () => {
    expect(nameTokens("LTD")).toEqual(["ltd"]);
    expect(nameTokens("KIM, Sa", "individual")).toEqual(["sa", "kim"]);
  });

  it("bounds the number and length of tokens", () => {
    expect(nameTokens(Array(40).fill("word").join(" "))).toHaveLength(24);
    expect(nameTokens("x".repeat(100))[0]).toHaveLength(64);
  });

  it("returns nothing for a name without letters or digits", () => {
    expect(nameTokens(" -- , . ")).toEqual([]);
  });
});
