// Type checking of rule expressions. @bufbuild/cel 0.6.1's own checker only types literals
// and identifiers (it throws on any operator), so this one walks the parsed AST itself and
// resolves every call against the overloads the evaluator will dispatch to (env.funcs): an
// expression that checks here has a runtime overload for every call it makes.
import { type CelEnv, CelScalar, type CelType, listType, type parse } from "@bufbuild/cel";

type Expr = ReturnType<typeof parse>["expr"];
type Call = Extract<Expr["exprKind"], { case: "callExpr" }>["value"];
type Constant = Extract<Expr["exprKind"], { case: "constExpr" }>["value"];

/** Deepest nesting accepted; a chain of the same && or || counts as one level. */
export const expressionDepthMax = 64;

export class TypeCheckError extends Error {
  /** Id of the expression node the error is about (its source offset is in SourceInfo.positions). */
  readonly exprId: bigint;
  constructor(message: string, exprId: bigint) {
    super(message);
    this.exprId = exprId;
  }
}

const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;
const uint64Max = 2n ** 64n - 1n;
const numericNames = new Set(["int", "uint", "double"]);
const logicalOperators = new Set(["_&&_", "_||_"]);

/** The CEL type of `expr`, or a TypeCheckError on the first node that does not type. */
export function checkExpr(env: CelEnv, expr: Expr, depth = 0): CelType {
  if (depth > expressionDepthMax) throw new TypeCheckError(`expression nests deeper than ${expressionDepthMax} levels`, expr.id);
  const kind = expr.exprKind;
  switch (kind.case) {
    case "constExpr":
      return constantType(kind.value, expr.id);
    case "identExpr": {
      const type = env.variables.find(kind.value.name);
      if (type === undefined) throw new TypeCheckError(unknownFeatureMessage(env, kind.value.name), expr.id);
      return type;
    }
    case "callExpr":
      return checkCall(env, kind.value, expr.id, depth);
    case "listExpr": {
      if (kind.value.optionalIndices.length > 0) throw new TypeCheckError("optional list elements are not supported in rules", expr.id);
      const types = kind.value.elements.map((e) => checkExpr(env, e, depth + 1));
      const first = types[0];
      if (first === undefined) return listType(CelScalar.DYN);
      if (types.some((t) => t.name !== first.name)) {
        throw new TypeCheckError(`list elements must all have one type, got ${[...new Set(types.map(String))].join(", ")}`, expr.id);
      }
      return listType(first as Parameters<typeof listType>[0]);
    }
    case "selectExpr":
      throw new TypeCheckError(
        kind.value.testOnly
          ? "has() is not supported in rules: every feature is always present"
          : "features are flat: field selection (a.b) is not supported",
        expr.id,
      );
    case "comprehensionExpr":
      throw new TypeCheckError("macros (all, exists, exists_one, map, filter) are not supported in rules", expr.id);
    case "structExpr":
      throw new TypeCheckError("map and message literals are not supported in rules", expr.id);
    default:
      throw new TypeCheckError(`unsupported expression (${kind.case ?? "empty"})`, expr.id);
  }
}

function constantType(constant: Constant, id: bigint): CelType {
  const value = constant.constantKind;
  switch (value.case) {
    case "boolValue":
      return CelScalar.BOOL;
    case "int64Value":
      if (value.value < int64Min || value.value > int64Max) throw new TypeCheckError("integer literal out of the int64 range", id);
      return CelScalar.INT;
    case "uint64Value":
      if (value.value > uint64Max) throw new TypeCheckError("unsigned integer literal out of the uint64 range", id);
      return CelScalar.UINT;
    case "doubleValue":
      if (!Number.isFinite(value.value)) throw new TypeCheckError("double literal out of range", id);
      return CelScalar.DOUBLE;
    case "stringValue":
      return CelScalar.STRING;
    case "bytesValue":
      return CelScalar.BYTES;
    case "nullValue":
      return CelScalar.NULL;
    default:
      throw new TypeCheckError(`unsupported literal (${value.case ?? "empty"})`, id);
  }
}

function checkCall(env: CelEnv, call: Call, id: bigint, depth: number): CelType {
  const argDepth = (arg: Expr) =>
    logicalOperators.has(call.function) && arg.exprKind.case === "callExpr" && arg.exprKind.value.function === call.function
      ? depth
      : depth + 1;
  const target = call.target === undefined ? undefined : checkExpr(env, call.target, depth + 1);
  const args = call.args.map((a) => checkExpr(env, a, argDepth(a)));
  const display = operatorDisplay(call.function);
  switch (call.function) {
    case "_&&_":
    case "_||_":
      for (const a of args) expectType(a, CelScalar.BOOL, `operands of ${display} must be bool`, id);
      return CelScalar.BOOL;
    case "_?_:_": {
      const [condition, whenTrue, whenFalse] = args;
      if (condition === undefined || whenTrue === undefined || whenFalse === undefined)
        throw new TypeCheckError("malformed conditional", id);
      expectType(condition, CelScalar.BOOL, "the condition of ?: must be bool", id);
      if (!sameType(whenTrue, whenFalse))
        throw new TypeCheckError(`both branches of ?: must have one type, got ${whenTrue} and ${whenFalse}`, id);
      return whenTrue.name === "dyn" ? whenFalse : whenTrue;
    }
    case "_==_":
    case "_!=_": {
      const [left, right] = args;
      if (left === undefined || right === undefined || !comparable(left, right)) {
        throw new TypeCheckError(`cannot compare ${left} ${display} ${right}`, id);
      }
      return CelScalar.BOOL;
    }
    case "@in": {
      const [element, container] = args;
      if (element === undefined || container?.kind !== "list" || !comparable(element, container.element)) {
        throw new TypeCheckError(`'in' needs a list of the element's type on its right, got ${element} in ${container}`, id);
      }
      return CelScalar.BOOL;
    }
    case "_[_]":
      throw new TypeCheckError("indexing is not supported in rules", id);
    default:
      return resolveOverload(env, call.function, display, target, args, id);
  }
}

function resolveOverload(env: CelEnv, name: string, display: string, target: CelType | undefined, args: CelType[], id: bigint): CelType {
  const group = env.funcs.find(name);
  if (group !== undefined) {
    for (const overload of group) {
      if ((overload.target === undefined) !== (target === undefined)) continue;
      if (overload.target !== undefined && target !== undefined && !accepts(overload.target, target)) continue;
      if (overload.arguments.length !== args.length) continue;
      if (overload.arguments.every((p, i) => accepts(p, args[i]))) return overload.result;
    }
  }
  const shown = `(${args.map(String).join(", ")})`;
  if (group === undefined) throw new TypeCheckError(`unknown function '${name}'`, id);
  throw new TypeCheckError(`no overload of ${display} takes ${target === undefined ? "" : `${target}.`}${shown}`, id);
}

function accepts(param: CelType, actual: CelType | undefined): boolean {
  if (actual === undefined) return false;
  if (param.name === "dyn" || actual.name === "dyn") return true;
  if (param.kind === "list" || param.kind === "map") return param.kind === actual.kind;
  return param.name === actual.name;
}

function sameType(a: CelType, b: CelType): boolean {
  if (a.name === "dyn" || b.name === "dyn") return true;
  if (a.kind === "list" && b.kind === "list") return sameType(a.element, b.element);
  return a.name === b.name;
}

/** == and `in` compare numbers across int, uint and double (as the evaluator does); other types only with themselves. */
function comparable(a: CelType, b: CelType): boolean {
  return sameType(a, b) || (numericNames.has(a.name) && numericNames.has(b.name));
}

function expectType(actual: CelType, expected: CelType, message: string, id: bigint): void {
  if (actual.name !== "dyn" && actual.name !== expected.name) throw new TypeCheckError(`${message}, got ${actual}`, id);
}

/** `_>=_` → `'>='`, `size` → `size()`. */
function operatorDisplay(name: string): string {
  if (name === "@in") return "'in'";
  if (name.startsWith("_") || name.endsWith("_")) return `'${name.replaceAll("_", "").replace("?:", "? :")}'`;
  return `${name}()`;
}

function unknownFeatureMessage(env: CelEnv, name: string): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const [candidate] of env.variables) {
    const distance = editDistance(name, candidate, bestDistance);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return `unknown feature '${name}'${best === undefined ? "" : ` (did you mean '${best}'?)`}`;
}

/** Levenshtein distance, giving up (returning `limit`) once it cannot be below `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    if (Math.min(...current) >= limit) return limit;
    previous = current;
  }
  return Math.min(previous[b.length] ?? limit, limit);
}
