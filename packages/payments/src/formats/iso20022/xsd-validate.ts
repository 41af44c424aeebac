// Test support: validates a document against the official XSDs copied under
// testdata/iso20022/, with libxml2 compiled to WebAssembly (xmllint-wasm).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { validateXML } from "xmllint-wasm";

export type SchemaName = "pacs.008.001.08" | "pacs.002.001.10" | "pacs.004.001.09" | "pain.001.001.10";

const testdataDir = fileURLToPath(new URL("../../../testdata/iso20022/", import.meta.url));
const schemaTexts = new Map<SchemaName, string>();

export function readTestdata(fileName: string): string {
  return readFileSync(`${testdataDir}${fileName}`, "utf8");
}

function schemaText(name: SchemaName): string {
  let text = schemaTexts.get(name);
  if (text === undefined) {
    text = readTestdata(`${name}.xsd`);
    schemaTexts.set(name, text);
  }
  return text;
}

export interface XsdResult {
  readonly valid: boolean;
  /** libxml2's messages, e.g. "Element '{urn:…}UETR': [facet 'pattern'] The value … is not accepted …". */
  readonly errors: readonly string[];
}

export async function validateAgainstXsd(xml: string, schema: SchemaName): Promise<XsdResult> {
  const result = await validateXML({
    xml: [{ fileName: "message.xml", contents: xml }],
    schema: [{ fileName: `${schema}.xsd`, contents: schemaText(schema) }],
  });
  return { valid: result.valid, errors: result.errors.map((e) => e.rawMessage) };
}
