import { describe, expect, it } from "vitest";
import {
  batchControlLayout,
  batchHeaderLayout,
  entryDetailLayout,
  type FieldSpec,
  fileControlLayout,
  fileHeaderLayout,
  isYymmdd,
  paymentAddendaLayout,
  returnAddendaLayout,
} from "./fields.js";

const layouts: Record<string, readonly FieldSpec[]> = {
  fileHeaderLayout,
  batchHeaderLayout,
  entryDetailLayout,
  paymentAddendaLayout,
  returnAddendaLayout,
  batchControlLayout,
  fileControlLayout,
};

describe("record layouts", () => {
  it.each(Object.entries(layouts))("%s tiles positions 1-94 without gap or overlap", (_, layout) => {
    let next = 1;
    for (const spec of layout) {
      expect(spec.start, spec.name).toBe(next);
      next += spec.length;
    }
    expect(next).toBe(95);
  });

  it("accepts only real calendar dates", () => {
    expect(isYymmdd("240229")).toBe(true);
    expect(isYymmdd("250229")).toBe(false);
    expect(isYymmdd("261301")).toBe(false);
    expect(isYymmdd("261100")).toBe(false);
  });
});
