// Reads OFAC's files from a folder (as downloaded: SDN.CSV, ALT.CSV, ADD.CSV, any letter case).

import { readdir, readFile, stat } from "node:fs/promises";
import * as path from "node:path";
import { ScreeningError } from "./screening-error.js";
import { parseSdnList, type SdnEntry, type SdnLimits } from "./sdn-csv.js";

/** Largest file read (the real SDN.CSV is a few MiB). */
export const sdnFileBytesMax = 512 * 1024 * 1024;

export type ReadSdnOptions = {
  limits?: Partial<SdnLimits>;
  /** OFAC's legacy files are plain ASCII; "latin1" reads a Windows-1252-style export without refusing it. */
  encoding?: "utf-8" | "latin1";
};

async function readText(file: string, encoding: "utf-8" | "latin1"): Promise<string> {
  const { size } = await stat(file);
  if (size > sdnFileBytesMax) {
    throw new ScreeningError("limit_exceeded", `${path.basename(file)} is ${size} bytes, more than ${sdnFileBytesMax}`);
  }
  const bytes = await readFile(file);
  if (encoding === "latin1") return new TextDecoder("latin1").decode(bytes);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const line =
      new TextDecoder("utf-8")
        .decode(bytes)
        .split("\n")
        .findIndex((text) => text.includes("\ufffd")) + 1;
    throw new ScreeningError("malformed_list", `${path.basename(file)} line ${line}: not valid UTF-8 (try encoding "latin1")`);
  }
}

/** sdn.csv is required; alt.csv and add.csv are read when present. */
export async function readSdnDirectory(directory: string, options: ReadSdnOptions = {}): Promise<SdnEntry[]> {
  const names = new Map((await readdir(directory)).map((name) => [name.toLowerCase(), name]));
  const read = async (name: string): Promise<string | undefined> => {
    const actual = names.get(name);
    return actual === undefined ? undefined : readText(path.join(directory, actual), options.encoding ?? "utf-8");
  };
  const sdn = await read("sdn.csv");
  if (sdn === undefined) throw new ScreeningError("malformed_list", `no sdn.csv in ${directory}`);
  const [alt, add] = await Promise.all([read("alt.csv"), read("add.csv")]);
  return parseSdnList({ sdn, ...(alt === undefined ? {} : { alt }), ...(add === undefined ? {} : { add }) }, options.limits ?? {});
}
