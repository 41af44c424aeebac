// ABA routing transit numbers as violations: 9 digits with a 3-7-1 weighted checksum.
import { isValidAbaRoutingNumber } from "../aba.js";
import { readText, type Violation, violation } from "./violation.js";

export function validateAbaRouting(value: unknown, field: string): Violation[] {
  const read = readText(value, field);
  if (!read.ok) return [read.violation];
  if (!/^[0-9]{9}$/.test(read.text)) {
    return [violation(field, "aba-format", `${field} must be exactly 9 digits`)];
  }
  if (!isValidAbaRoutingNumber(read.text)) {
    return [violation(field, "aba-checksum", `${field} fails the ABA 3-7-1 checksum`)];
  }
  return [];
}
