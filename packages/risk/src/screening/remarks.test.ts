import { describe, expect, it } from "vitest";
import { countriesFromRemarks, datesOfBirthFromRemarks, parseOfacDate } from "./remarks.js";

describe("parseOfacDate", () => {
  it("reads the shapes OFAC writes", () => {
    expect(parseOfacDate("07 Oct 1952")).toEqual({ yearFrom: 1952, yearTo: 1952, month: 10, day: 7 });
    expect(parseOfacDate("Oct 1952")).toEqual({ yearFrom: 1952, yearTo: 1952, month: 10 });
    expect(parseOfacDate("1952")).toEqual({ yearFrom: 1952, yearTo: 1952 });
    expect(parseOfacDate("circa 1960")).toEqual({ yearFrom: 1958, yearTo: 1962 });
    expect(parseOfacDate("1958 to 1961")).toEqual({ yearFrom: 1958, yearTo: 1961 });
  });

  it("refuses impossible dates", () => {
    expect(parseOfacDate("31 Feb 1990")).toBeUndefined();
    expect(parseOfacDate("07 Foo 1952")).toBeUndefined();
    expect(parseOfacDate("1961 to 1958")).toBeUndefined();
    expect(parseOfacDate("unknown")).toBeUndefined();
  });
});

describe("remarks", () => {
  const remarks = "DOB 07 Oct 1952; alt. DOB 1953; POB Leningrad, Russia; nationality Russia; citizen Russia; Gender Male; DOB nonsense";

  it("takes every DOB and alt. DOB that reads as a date", () => {
    expect(datesOfBirthFromRemarks(remarks)).toEqual([
      { yearFrom: 1952, yearTo: 1952, month: 10, day: 7 },
      { yearFrom: 1953, yearTo: 1953 },
    ]);
  });

  it("takes nationality and citizenship, not a vessel's nationality of registration", () => {
    expect(countriesFromRemarks(remarks)).toEqual(["Russia", "Russia"]);
    expect(countriesFromRemarks("Nationality of Registration Panama; Vessel Type Crude Oil Tanker")).toEqual([]);
  });
});
