// Parsing with useful error positions. The @bufbuild/cel parser (peggy) reports where it
// stopped consuming, not where the text went wrong: for `amount_usd >` it blames the `>`
// ("expecting end of input") because the failed operand after it is backtracked away. When
// that happens we re-parse the text after the operator to find the real spot.
import { parse } from "@bufbuild/cel";

export type ParsedExpr = ReturnType<typeof parse>;

/** 1-based line and column (in UTF-16 code units, as JS strings index) and 0-based offset. */
export type SourcePosition = { readonly line: number; readonly column: number; readonly offset: number };

export type SyntaxProblem = { readonly message: string; readonly offset: number };

/** The shape of the parser's ParseSyntaxError / ParseError, which @bufbuild/cel does not export. */
type PeggyError = Error & {
  location: { start: { offset: number } };
  rawMessage?: string;
  expected?: { type: string; value?: unknown }[];
  found?: string;
};

/** Operators that the parser accepts after a complete operand, longest first. */
const operatorTokens = ["||", "&&", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "?", ":", ",", "(", "[", "{", "."];
const closers: Readonly<Record<string, string>> = { "(": ")", "[": "]", "{": "}", "?": ":" };
/** How many operators deep the error search follows; the text is at most a few KiB. */
const searchDepthMax = 16;

export function parseExpression(source: string): ParsedExpr | SyntaxProblem {
  try {
    return parse(source);
  } catch (error) {
    if (error instanceof RangeError) return { message: "expression nests too deeply to parse", offset: 0 };
    return locateSyntaxError(source, 0, error, 0);
  }
}

/** Line, column and offset of `offset` in `source`. */
export function positionAt(source: string, offset: number): SourcePosition {
  const clamped = Math.max(0, Math.min(offset, source.length));
  let line = 1;
  let lineStart = 0;
  for (let i = source.indexOf("\n"); i !== -1 && i < clamped; i = source.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: clamped - lineStart + 1, offset: clamped };
}

/** Moves an offset that points at whitespace (the parser records some operators that way) to the next token. */
export function skipWhitespace(source: string, offset: number): number {
  let i = offset;
  while (i < source.length && /\s/.test(source[i] ?? "")) i++;
  return i < source.length ? i : offset;
}

function locateSyntaxError(text: string, base: number, error: unknown, depth: number): SyntaxProblem {
  if (!isPeggyError(error)) return { message: error instanceof Error ? error.message : String(error), offset: base };
  const at = error.location.start.offset;
  // A ParseError without expectations (e.g. "reserved identifier") already names its spot.
  if (error.expected === undefined) return { message: error.rawMessage ?? error.message, offset: base + at };
  const rest = text.slice(at);
  const operator = operatorTokens.find((op) => rest.startsWith(op)) ?? (/^in\b/.test(rest) ? "in" : undefined);
  if (operator !== undefined && depth < searchDepthMax) {
    const found = locateAfterOperator(text, base, at, operator, depth);
    if (found !== undefined) return found;
  }
  const expected = error.expected;
  const hint = rest.startsWith("=") ? " (use == to compare)" : /^['"]/.test(rest) ? " (unterminated string?)" : "";
  // Only "end of input" expected: the text before `at` is a complete expression that what follows cannot continue.
  const onlyEndExpected = expected.length > 0 && expected.every((e) => e.type === "end");
  if (onlyEndExpected || expected.length > 3) return { message: `unexpected ${quote(error.found)}${hint}`, offset: base + at };
  return { message: describe(expected, error.found), offset: base + at };
}

/** Where the text after an operator goes wrong, or undefined when the operand after it is fine. */
function locateAfterOperator(text: string, base: number, at: number, operator: string, depth: number): SyntaxProblem | undefined {
  const operandStart = at + operator.length;
  const operand = text.slice(operandStart);
  if (operand.trim() === "") return { message: `expression ends after '${operator}'`, offset: base + text.length };
  try {
    parse(operand);
  } catch (inner) {
    if (inner instanceof RangeError) return { message: "expression nests too deeply to parse", offset: base + operandStart };
    return locateSyntaxError(operand, base + operandStart, inner, depth + 1);
  }
  const closer = closers[operator];
  return closer === undefined ? undefined : { message: `missing '${closer}' to match '${operator}'`, offset: base + text.length };
}

function isPeggyError(error: unknown): error is PeggyError {
  const location = (error as { location?: { start?: { offset?: unknown } } } | null)?.location;
  return error instanceof Error && typeof location?.start?.offset === "number";
}

function describe(expected: readonly { type: string; value?: unknown }[], found: string | undefined): string {
  const names = expected.map((e) =>
    e.type === "end" ? "end of expression" : e.type === "literal" ? `'${String(e.value)}'` : String(e.value),
  );
  return `expected ${names.join(" or ")}, found ${quote(found)}`;
}

function quote(found: string | undefined): string {
  return found === undefined || found === "" ? "end of expression" : `'${found}'`;
}
