import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { trainIsolationForest } from "./isolation-forest.js";
import { rocAuc } from "./metrics.js";
import { parseLabelledCsv, splitTrainTest } from "./odds.js";

const cardioCsv = readFileSync(new URL("../../testdata/odds/cardio.csv", import.meta.url), "utf8");

describe("ODDS cardio, one run of PyOD's protocol", () => {
  it("reaches the published ROC-AUC 0.9213 within 0.03 on the test split", () => {
    const data = parseLabelledCsv(cardioCsv);
    expect([data.rows.length, data.rows[0]?.length, data.labels.filter((l) => l === 1).length]).toEqual([1831, 21, 176]);
    const { train, test } = splitTrainTest(data, 0);
    expect([train.rows.length, test.rows.length]).toEqual([1098, 733]);
    const model = trainIsolationForest(train.rows, { trees: 100, sampleSize: 256, seed: 0, standardize: true });
    expect(rocAuc(model.scoreRows(test.rows), test.labels)).toBeGreaterThanOrEqual(0.9213 - 0.03);
  });
});

describe("parseLabelledCsv and splitTrainTest", () => {
  it("reads features and labels and splits without losing or repeating a row", () => {
    const data = parseLabelledCsv("x0,x1,label\n1,2,0\n3,4,1\n5,6,0\n7,8,0\n9,10,1\n");
    expect(data).toEqual({
      rows: [
        [1, 2],
        [3, 4],
        [5, 6],
        [7, 8],
        [9, 10],
      ],
      labels: [0, 1, 0, 0, 1],
    });
    const { train, test } = splitTrainTest(data, 5);
    expect([train.rows.length, test.rows.length]).toEqual([3, 2]);
    const firsts = [...train.rows, ...test.rows].map((row) => row[0]).sort((a, b) => (a as number) - (b as number));
    expect(firsts).toEqual([1, 3, 5, 7, 9]);
    expect(() => parseLabelledCsv("x0,label\n1,2\n")).toThrow(/line 2/);
  });
});
