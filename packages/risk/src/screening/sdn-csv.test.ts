import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readSdnDirectory } from "./read-sdn-directory.js";
import { ScreeningError } from "./screening-error.js";
import { parseSdnList } from "./sdn-csv.js";

const testList = fileURLToPath(new URL("../../testdata/sanctions/", import.meta.url));

function sdnLine(...fields: string[]): string {
  return `${fields.join(",")}\r\n`;
}

const empty = "-0- ";

function rejection(run: () => unknown): ScreeningError {
  try {
    run();
  } catch (error) {
    if (error instanceof ScreeningError) return error;
    throw error;
  }
  throw new Error("expected a ScreeningError");
}

describe("parseSdnList", () => {
  it("reads quoted fields with commas and doubled quotes, -0- as empty, and the DOB from Remarks", () => {
    const sdn =
      sdnLine("36", '"AERO ""CARIBBEAN"", AIRLINES"', empty, '"CUBA"', empty, empty, empty, empty, empty, empty, empty, empty) +
      sdnLine(
        "306",
        '"PUTIN, Vladimir"',
        '"individual"',
        '"SDGT] [IRGC"',
        '"President"',
        empty,
        empty,
        empty,
        empty,
        empty,
        empty,
        '"DOB 07 Oct 1952; POB Leningrad;"',
      ) +
      "\x1a";
    const [airline, person] = parseSdnList({ sdn });
    expect(airline).toEqual({
      id: 36,
      name: 'AERO "CARIBBEAN", AIRLINES',
      type: "entity",
      programs: ["CUBA"],
      aliases: [],
      addresses: [],
      countries: [],
      datesOfBirth: [],
    });
    expect(person?.type).toBe("individual");
    expect(person?.programs).toEqual(["SDGT", "IRGC"]);
    expect(person?.title).toBe("President");
    expect(person?.datesOfBirth).toEqual([{ yearFrom: 1952, yearTo: 1952, month: 10, day: 7 }]);
  });

  it("keeps a line break inside a quoted field", () => {
    const sdn = sdnLine("1", '"A"', empty, '"X"', empty, empty, empty, empty, empty, empty, empty, '"first\r\nsecond"');
    expect(parseSdnList({ sdn })[0]?.remarks).toBe("first\r\nsecond");
  });

  it("attaches aliases and addresses, and gathers countries from addresses, nationality and flag", () => {
    const sdn =
      sdnLine("1", '"PUTIN, Vladimir"', '"individual"', '"X"', empty, empty, empty, empty, empty, empty, empty, '"nationality Russia;"') +
      sdnLine(
        "2",
        '"SEA BREEZE"',
        '"vessel"',
        '"IRAN"',
        empty,
        '"9HA1"',
        '"Tanker"',
        '"150,000"',
        '"80,000"',
        '"Malta"',
        '"OWNER CO"',
        empty,
      );
    const alt = `1,10,"aka","POUTINE, Vladimir",-0- \r\n`;
    const add = `1,20,-0- ,"Moscow","Russia",-0- \r\n2,21,-0- ,"Valletta","Malta",-0- \r\n`;
    const [person, vessel] = parseSdnList({ sdn, alt, add });
    expect(person?.aliases).toEqual([{ altNum: 10, type: "aka", name: "POUTINE, Vladimir" }]);
    expect(person?.addresses).toEqual([{ addNum: 20, cityStatePostal: "Moscow", country: "Russia" }]);
    expect(person?.countries).toEqual(["Russia"]);
    expect(vessel?.vessel).toEqual({
      callSign: "9HA1",
      vesselType: "Tanker",
      tonnage: "150,000",
      grossRegisteredTonnage: "80,000",
      flag: "Malta",
      owner: "OWNER CO",
    });
    expect(vessel?.countries).toEqual(["Malta"]);
  });

  it("reports a row with the wrong number of fields by its line number", () => {
    const good = sdnLine("1", '"A"', empty, '"X"', empty, empty, empty, empty, empty, empty, empty, empty);
    const short = sdnLine("3", '"C"', empty, '"X"', empty, empty, empty, empty, empty, empty, empty);
    const error = rejection(() => parseSdnList({ sdn: `${good}\r\n${sdnLine("2", '"B\nB"', ...Array(10).fill(empty))}${short}` }));
    expect(error.code).toBe("malformed_list");
    expect(error.message).toBe("sdn.csv line 5: expected 12 fields, got 11");
  });

  it("reports broken quoting, bad numbers, unknown types, duplicates and dangling aliases", () => {
    const row = (id: string, type = empty) => sdnLine(id, '"A"', type, '"X"', empty, empty, empty, empty, empty, empty, empty, empty);
    expect(rejection(() => parseSdnList({ sdn: `${row("1")}2,"B"x,-0- \r\n` })).message).toMatch(/^sdn\.csv line 2: not valid CSV/);
    expect(rejection(() => parseSdnList({ sdn: row("1") + row("x") })).message).toBe(
      'sdn.csv line 2: ent_num must be a positive integer, got "x"',
    );
    expect(rejection(() => parseSdnList({ sdn: row("1", '"person"') })).message).toBe('sdn.csv line 1: unknown SDN_Type "person"');
    expect(rejection(() => parseSdnList({ sdn: row("1") + row("1") })).message).toBe("sdn.csv line 2: ent_num 1 appears twice");
    expect(rejection(() => parseSdnList({ sdn: row("1"), alt: `1,1,"aka","B",-0- \r\n7,2,"aka","C",-0- \r\n` })).message).toBe(
      "alt.csv line 2: ent_num 7 is not in sdn.csv",
    );
  });

  it("enforces the entry, field length and per-entry limits", () => {
    const row = (id: number, name = "A") =>
      sdnLine(String(id), `"${name}"`, empty, '"X"', empty, empty, empty, empty, empty, empty, empty, empty);
    const three = row(1) + row(2) + row(3);
    expect(parseSdnList({ sdn: three }, { entriesMax: 3 })).toHaveLength(3);
    expect(rejection(() => parseSdnList({ sdn: three }, { entriesMax: 2 })).message).toBe("sdn.csv line 3: more than 2 rows");
    expect(parseSdnList({ sdn: row(1, "x".repeat(4096)) })[0]?.name).toHaveLength(4096);
    expect(rejection(() => parseSdnList({ sdn: row(1, "x".repeat(4097)) })).message).toMatch(/^sdn\.csv line 1: /);
    const alt = `1,1,"aka","B",-0- \r\n1,2,"aka","C",-0- \r\n`;
    expect(parseSdnList({ sdn: row(1), alt }, { perEntryMax: 2 })[0]?.aliases).toHaveLength(2);
    expect(rejection(() => parseSdnList({ sdn: row(1), alt }, { perEntryMax: 1 })).message).toBe(
      "alt.csv line 2: ent_num 1 has more than 1 rows",
    );
  });
});

describe("readSdnDirectory", () => {
  it("reads the synthetic test list", async () => {
    const entries = await readSdnDirectory(testList);
    expect(entries.length).toBeGreaterThanOrEqual(25);
    const putin = entries.find((entry) => entry.id === 90001);
    expect(putin?.name).toBe("PUTIN, Vladimir Vladimirovich");
    expect(putin?.aliases.map((alias) => alias.name)).toContain("POUTINE, Vladimir");
    expect(putin?.datesOfBirth).toEqual([{ yearFrom: 1952, yearTo: 1952, month: 10, day: 7 }]);
    expect(putin?.countries).toEqual(["Russia"]);
    expect(entries.find((entry) => entry.id === 90006)?.name).toBe("MÜLLER, Jürgen");
  });
});
