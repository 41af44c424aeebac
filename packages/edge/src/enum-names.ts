// The names a REST client may give an enum value: its proto name (what proto3 JSON and every
// response use, e.g. "TRANSFER_KIND_PENDING") or the short name without the enum's type
// prefix ("PENDING"), the form SEED.md and the contracts' comments use. One rule for every
// enum, so `kind: "PENDING"` works as `account_type: "CHECKING"` does (whose values carry no
// prefix: there the short name is the proto name).
import type { DescEnum, DescEnumValue } from "@bufbuild/protobuf";

/** "TransferKind" → "TRANSFER_KIND_": the prefix buf lint's ENUM_VALUE_PREFIX asks for. */
export function enumTypePrefix(desc: DescEnum): string {
  return `${desc.name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()}_`;
}

/** The value's name without its enum's type prefix; the proto name when it has none. */
export function shortEnumName(value: DescEnumValue): string {
  const prefix = enumTypePrefix(value.parent);
  const short = value.name.startsWith(prefix) ? value.name.slice(prefix.length) : value.name;
  // "TRANSFER_KIND_1X" would leave "1X", which is no enum identifier: keep the full name.
  return /^[A-Z]/.test(short) ? short : value.name;
}

const namesCache = new WeakMap<DescEnum, ReadonlyMap<string, DescEnumValue>>();

/**
 * Every accepted name → its value. A proto name always wins: a short name equal to another
 * value's proto name (or to a second value's short name) is not an alias.
 */
export function enumValuesByName(desc: DescEnum): ReadonlyMap<string, DescEnumValue> {
  const cached = namesCache.get(desc);
  if (cached) return cached;
  const names = new Map<string, DescEnumValue>(desc.values.map((v) => [v.name, v]));
  const shortCounts = new Map<string, number>();
  for (const v of desc.values) shortCounts.set(shortEnumName(v), (shortCounts.get(shortEnumName(v)) ?? 0) + 1);
  for (const v of desc.values) {
    const short = shortEnumName(v);
    if (!names.has(short) && shortCounts.get(short) === 1) names.set(short, v);
  }
  namesCache.set(desc, names);
  return names;
}

/** The names a request may use for these values: each proto name, then its short alias. */
export function acceptedEnumNames(desc: DescEnum, values: readonly DescEnumValue[] = desc.values): string[] {
  const byName = enumValuesByName(desc);
  const names: string[] = [];
  for (const v of values) {
    names.push(v.name);
    const short = shortEnumName(v);
    if (short !== v.name && byName.get(short) === v) names.push(short);
  }
  return names;
}
