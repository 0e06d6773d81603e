/**
 * @module
 * The validation language (docs/pipeline-artifact.md, "Validations"): a small
 * expression grammar over one row's outputs and inputs, parsed here by
 * recursive descent into a tree that is checked against the pipeline's
 * tensors at load and walked per row. Never eval.
 *
 * ```
 * expr    := or
 * or      := and (("or" | "||") and)*
 * and     := not (("and" | "&&") not)*
 * not     := ("not" | "!") not | compare
 * compare := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?
 * sum     := product (("+" | "-") product)*
 * product := unary (("*" | "/" | "%") unary)*
 * unary   := "-" unary | postfix
 * postfix := primary ("[" INTEGER "]")?
 * primary := NUMBER | "true" | "false" | name | "(" expr ")"
 * name    := ("out." | "in.")? (IDENT | `quoted`)
 * ```
 *
 * A name is this row's values of an output (`variable`, `out.variable`) or of
 * a first-step input (`in.tensor`); `name[i]` is its i-th value (row-major).
 * A name without an index stands for its value when the row holds exactly
 * one. Elements of bool tensors are booleans, of other numeric tensors
 * numbers (int64 as the nearest double); string tensors cannot be used.
 */
import { PipelineLoadError } from "../errors.ts";
import { type DType, elementCount, type HostTensor } from "../engine/tensor.ts";
import { fromHalfBits } from "../codec/convert.ts";

/** What the checker knows of a name: its element type and, when fixed, its values per row. */
export interface NameInfo {
  type: DType;
  /** Elements per row, when the model's shape fixes it. */
  width?: number;
}

/** A tensor name as a validation refers to it. */
export interface TensorRef {
  scope: "out" | "in";
  name: string;
}

type Node =
  | { kind: "number"; value: number }
  | { kind: "bool"; value: boolean }
  | { kind: "name"; ref: TensorRef; index?: number; at: number }
  | { kind: "neg"; operand: Node; at: number }
  | { kind: "not"; operand: Node; at: number }
  | { kind: "binary"; op: string; left: Node; right: Node; at: number };

/** A parsed, checked expression: bind it to a batch's tensors, then test rows. */
export interface CompiledExpression {
  /** The tensors it reads. */
  readonly refs: readonly TensorRef[];
  /** A row test over `tensors` (by `scope.name`) of a batch of `rows` rows. */
  bind(tensors: (ref: TensorRef) => HostTensor, rows: number): (row: number) => boolean;
}

/** Parses `text` (its syntax only: names are checked at load); throws PipelineLoadError saying where and why. */
export function parseExpression(text: string): void {
  new Parser(text).parseAll();
}

/** Parses `text` and checks it against the names `resolve` knows; throws PipelineLoadError saying where and why. */
export function compileExpression(
  text: string,
  resolve: (ref: TensorRef) => NameInfo | undefined,
): CompiledExpression {
  const tree = new Parser(text).parseAll();
  const refs: TensorRef[] = [];
  const type = check(tree, text, resolve, refs);
  if (type !== "bool") throw syntax(text, 0, "the expression must be true or false (a comparison), not a number");
  return {
    refs,
    bind(tensors, rows) {
      const bound = new Map<
        string,
        { t: HostTensor; perRow: boolean; width: number; bool: boolean; half: boolean }
      >();
      for (const ref of refs) {
        const t = tensors(ref);
        const perRow = t.dims.length > 0 && t.dims[0] === rows;
        const width = perRow ? elementCount(t.dims.slice(1)) : elementCount(t.dims);
        bound.set(key(ref), { t, perRow, width, bool: t.type === "bool", half: t.type === "float16" });
      }
      const evaluate = (node: Node, row: number): number | boolean => {
        switch (node.kind) {
          case "number":
          case "bool":
            return node.value;
          case "name": {
            const b = bound.get(key(node.ref))!;
            const i = node.index ?? 0;
            if (node.index === undefined && b.width !== 1) {
              throw new Error(
                `${show(node.ref)} holds ${b.width} values in row ${row}; pick one: ${show(node.ref)}[i]`,
              );
            }
            if (i >= b.width) {
              throw new Error(`${show(node.ref)}[${i}] is past its ${b.width} values in row ${row}`);
            }
            const v = b.t.data[(b.perRow ? row * b.width : 0) + i];
            // float16 tensors hold their values' bits (tensor.ts).
            return b.bool ? v !== 0 : b.half ? fromHalfBits(v as number) : Number(v);
          }
          case "neg":
            return -(evaluate(node.operand, row) as number);
          case "not":
            return !evaluate(node.operand, row);
          case "binary": {
            const l = evaluate(node.left, row);
            // and/or short-circuit
            if (node.op === "and") return l && evaluate(node.right, row);
            if (node.op === "or") return l || evaluate(node.right, row);
            const r = evaluate(node.right, row);
            return apply(node.op, l, r);
          }
        }
      };
      return (row) => evaluate(tree, row) as boolean;
    },
  };
}

function apply(op: string, l: number | boolean, r: number | boolean): number | boolean {
  switch (op) {
    case "+":
      return (l as number) + (r as number);
    case "-":
      return (l as number) - (r as number);
    case "*":
      return (l as number) * (r as number);
    case "/":
      return (l as number) / (r as number);
    case "%":
      return (l as number) % (r as number);
    case "<":
      return l < r;
    case "<=":
      return l <= r;
    case ">":
      return l > r;
    case ">=":
      return l >= r;
    case "==":
      return l === r;
    default:
      return l !== r;
  }
}

type Type = "number" | "bool";

/** The node's type; names are resolved and recorded in `refs`. */
function check(
  node: Node,
  text: string,
  resolve: (ref: TensorRef) => NameInfo | undefined,
  refs: TensorRef[],
): Type {
  const want = (n: Node, type: Type, what: string, at: number) => {
    const got = check(n, text, resolve, refs);
    if (got !== type) {
      throw syntax(
        text,
        at,
        `${what} takes ${type === "bool" ? "true/false" : "numbers"}, not ${
          got === "bool" ? "true/false" : "a number"
        }`,
      );
    }
  };
  switch (node.kind) {
    case "number":
      return "number";
    case "bool":
      return "bool";
    case "name": {
      const info = resolve(node.ref);
      if (!info) {
        throw syntax(
          text,
          node.at,
          `${show(node.ref)} is not ${
            node.ref.scope === "out" ? "an output of the pipeline's last step" : "an input of its first step"
          }`,
        );
      }
      if (info.type === "string") {
        throw syntax(text, node.at, `${show(node.ref)} holds strings, which validations cannot use`);
      }
      if (info.width !== undefined) {
        if (node.index === undefined && info.width !== 1) {
          throw syntax(
            text,
            node.at,
            `${show(node.ref)} holds ${info.width} values per row; pick one: ${show(node.ref)}[i]`,
          );
        }
        if (node.index !== undefined && node.index >= info.width) {
          throw syntax(text, node.at, `${show(node.ref)}[${node.index}] is past its ${info.width} values per row`);
        }
      }
      if (!refs.some((r) => key(r) === key(node.ref))) refs.push(node.ref);
      return info.type === "bool" ? "bool" : "number";
    }
    case "neg":
      want(node.operand, "number", "'-'", node.at);
      return "number";
    case "not":
      want(node.operand, "bool", "'not'", node.at);
      return "bool";
    case "binary": {
      if (node.op === "and" || node.op === "or") {
        want(node.left, "bool", `'${node.op}'`, node.at);
        want(node.right, "bool", `'${node.op}'`, node.at);
        return "bool";
      }
      if (node.op === "==" || node.op === "!=") {
        const l = check(node.left, text, resolve, refs);
        want(node.right, l, `'${node.op}' here`, node.at);
        return "bool";
      }
      want(node.left, "number", `'${node.op}'`, node.at);
      want(node.right, "number", `'${node.op}'`, node.at);
      return ["<", "<=", ">", ">="].includes(node.op) ? "bool" : "number";
    }
  }
}

const key = (ref: TensorRef) => `${ref.scope}.${ref.name}`;
const show = (ref: TensorRef) => `${ref.scope}.${ref.name}`;

function syntax(text: string, at: number, message: string): PipelineLoadError {
  return new PipelineLoadError(`${message} (at ${at + 1} in ${JSON.stringify(text)})`);
}

type Token =
  | { kind: "number"; value: number; at: number }
  | { kind: "ident"; value: string; at: number }
  | { kind: "quoted"; value: string; at: number }
  | { kind: "op"; value: string; at: number }
  | { kind: "end"; at: number };

const OPERATORS = ["<=", ">=", "==", "!=", "&&", "||", "<", ">", "+", "-", "*", "/", "%", "(", ")", "[", "]", ".", "!"];
/** Longest expression accepted: validations are one line, not programs. */
const MAX_LENGTH = 1000;
/** Deepest nesting accepted (bounds the parser's recursion). */
const MAX_DEPTH = 64;

function tokenize(text: string): Token[] {
  if (text.length > MAX_LENGTH) throw syntax(text.slice(0, 40) + "…", 0, `longer than ${MAX_LENGTH} characters`);
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const number = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(text.slice(i));
    if (number) {
      tokens.push({ kind: "number", value: Number(number[0]), at: i });
      i += number[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (ident) {
      tokens.push({ kind: "ident", value: ident[0], at: i });
      i += ident[0].length;
      continue;
    }
    if (c === "`") {
      const end = text.indexOf("`", i + 1);
      if (end < 0) throw syntax(text, i, "a `quoted name` is not closed");
      if (end === i + 1) throw syntax(text, i, "an empty `quoted name`");
      tokens.push({ kind: "quoted", value: text.slice(i + 1, end), at: i });
      i = end + 1;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (!op) throw syntax(text, i, `unexpected character ${JSON.stringify(c)}`);
    tokens.push({ kind: "op", value: op, at: i });
    i += op.length;
  }
  tokens.push({ kind: "end", at: text.length });
  return tokens;
}

const KEYWORDS = new Set(["and", "or", "not", "true", "false"]);

class Parser {
  readonly #text: string;
  readonly #tokens: Token[];
  #at = 0;
  #depth = 0;

  constructor(text: string) {
    this.#text = text;
    this.#tokens = tokenize(text);
  }

  parseAll(): Node {
    if (this.#peek().kind === "end") throw syntax(this.#text, 0, "the expression is empty");
    const node = this.#or();
    const next = this.#peek();
    if (next.kind !== "end") throw syntax(this.#text, next.at, `unexpected ${describe(next)}`);
    return node;
  }

  #peek(): Token {
    return this.#tokens[this.#at];
  }
  #next(): Token {
    return this.#tokens[this.#at++];
  }
  #isOp(...values: string[]): boolean {
    const t = this.#peek();
    return t.kind === "op" && values.includes(t.value);
  }
  #isWord(word: string): boolean {
    const t = this.#peek();
    return t.kind === "ident" && t.value === word;
  }

  #or(): Node {
    let left = this.#and();
    while (this.#isWord("or") || this.#isOp("||")) {
      const at = this.#next().at;
      left = { kind: "binary", op: "or", left, right: this.#and(), at };
    }
    return left;
  }
  #and(): Node {
    let left = this.#not();
    while (this.#isWord("and") || this.#isOp("&&")) {
      const at = this.#next().at;
      left = { kind: "binary", op: "and", left, right: this.#not(), at };
    }
    return left;
  }
  #not(): Node {
    if (this.#isWord("not") || this.#isOp("!")) {
      const at = this.#next().at;
      return this.#nested(() => ({ kind: "not", operand: this.#not(), at }));
    }
    return this.#compare();
  }
  #compare(): Node {
    const left = this.#sum();
    if (!this.#isOp("<", "<=", ">", ">=", "==", "!=")) return left;
    const op = this.#next() as { value: string; at: number };
    const node: Node = { kind: "binary", op: op.value, left, right: this.#sum(), at: op.at };
    if (this.#isOp("<", "<=", ">", ">=", "==", "!=")) {
      throw syntax(this.#text, this.#peek().at, "comparisons do not chain: write a < b and b < c");
    }
    return node;
  }
  #sum(): Node {
    let left = this.#product();
    while (this.#isOp("+", "-")) {
      const op = this.#next() as { value: string; at: number };
      left = { kind: "binary", op: op.value, left, right: this.#product(), at: op.at };
    }
    return left;
  }
  #product(): Node {
    let left = this.#unary();
    while (this.#isOp("*", "/", "%")) {
      const op = this.#next() as { value: string; at: number };
      left = { kind: "binary", op: op.value, left, right: this.#unary(), at: op.at };
    }
    return left;
  }
  #unary(): Node {
    if (this.#isOp("-")) {
      const at = this.#next().at;
      return this.#nested(() => ({ kind: "neg", operand: this.#unary(), at }));
    }
    return this.#primary();
  }
  #primary(): Node {
    const t = this.#next();
    if (t.kind === "number") return { kind: "number", value: t.value };
    if (t.kind === "op" && t.value === "(") {
      const inner = this.#nested(() => this.#or());
      if (!this.#isOp(")")) throw syntax(this.#text, this.#peek().at, `expected ')', found ${describe(this.#peek())}`);
      this.#next();
      return inner;
    }
    if (t.kind === "ident" && (t.value === "true" || t.value === "false")) {
      return { kind: "bool", value: t.value === "true" };
    }
    if (t.kind === "quoted" || (t.kind === "ident" && !KEYWORDS.has(t.value))) return this.#name(t);
    throw syntax(this.#text, t.at, `expected a number, a name or '(', found ${describe(t)}`);
  }
  #name(first: Token & { value: string }): Node {
    let ref: TensorRef = { scope: "out", name: first.value };
    if (first.kind === "ident" && (first.value === "out" || first.value === "in") && this.#isOp(".")) {
      this.#next();
      const name = this.#next();
      if (name.kind !== "ident" && name.kind !== "quoted") {
        throw syntax(this.#text, name.at, `expected a name after '${first.value}.', found ${describe(name)}`);
      }
      ref = { scope: first.value, name: name.value };
    }
    const node: Node = { kind: "name", ref, at: first.at };
    if (this.#isOp("[")) {
      this.#next();
      const index = this.#next();
      if (index.kind !== "number" || !Number.isSafeInteger(index.value)) {
        throw syntax(this.#text, index.at, `an index is a whole number ≥ 0, found ${describe(index)}`);
      }
      if (!this.#isOp("]")) throw syntax(this.#text, this.#peek().at, `expected ']', found ${describe(this.#peek())}`);
      this.#next();
      node.index = index.value;
    }
    return node;
  }
  #nested(parse: () => Node): Node {
    if (++this.#depth > MAX_DEPTH) throw syntax(this.#text, this.#peek().at, `nested deeper than ${MAX_DEPTH}`);
    try {
      return parse();
    } finally {
      this.#depth--;
    }
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case "end":
      return "the end";
    case "number":
      return `number ${t.value}`;
    case "quoted":
      return `\`${t.value}\``;
    default:
      return `'${t.value}'`;
  }
}
