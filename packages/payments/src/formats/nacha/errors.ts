// The one error the NACHA reader and writer throw; callers switch on `code`.

/** Record type digit → the name NACHA gives it, for messages. */
export const recordTypeNames = {
  "1": "file header",
  "5": "batch header",
  "6": "entry detail",
  "7": "addenda",
  "8": "batch control",
  "9": "file control",
} as const;

export type RecordType = keyof typeof recordTypeNames;

export type NachaErrorCode =
  | "too_large"
  | "record_length"
  | "record_type"
  | "record_order"
  | "field"
  | "check_digit"
  | "batch_control"
  | "file_control"
  | "entry_hash"
  | "blocking";

/**
 * A malformed file or model. `line` is 1-based and set when reading text; `path` names the
 * model field when writing. Either way the whole file is rejected: nothing partial is returned.
 */
export class NachaError extends Error {
  override name = "NachaError";
  constructor(
    readonly code: NachaErrorCode,
    readonly reason: string,
    readonly where: { line?: number; recordType?: RecordType | "padding"; path?: string },
  ) {
    super(`${describeWhere(where)}: ${reason}`);
  }

  get line(): number | undefined {
    return this.where.line;
  }

  get recordType(): RecordType | "padding" | undefined {
    return this.where.recordType;
  }
}

function describeWhere(where: NachaError["where"]): string {
  const parts: string[] = [];
  if (where.line !== undefined) parts.push(`line ${where.line}`);
  if (where.recordType === "padding") parts.push("(block padding)");
  else if (where.recordType !== undefined) parts.push(`(${recordTypeNames[where.recordType]}, type ${where.recordType})`);
  if (where.path !== undefined) parts.push(where.path);
  return parts.length > 0 ? parts.join(" ") : "NACHA file";
}
