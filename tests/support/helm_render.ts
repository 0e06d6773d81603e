/**
 * @module
 * Renders a Helm chart's templates for the chart test (no helm binary on these machines), implementing the part of
 * Go templates and Helm's functions deploy/helm/tern uses: `{{ .Values.a.b }}`, `.Release.*`, `.Chart.*`, `if` /
 * `else` / `end`, `define` and `include`, comments, whitespace trimming (`{{-`, `-}}`), pipelines and the functions
 * quote, default, and, or, not, toYaml, indent, nindent and sha256sum. Anything else is an error, so the chart cannot quietly use more. It
 * records which values the templates read.
 */

import { createHash } from "node:crypto";

type Node =
  | { kind: "text"; text: string }
  | { kind: "action"; pipeline: string }
  | { kind: "if"; pipeline: string; then: Node[]; otherwise: Node[] };

/** What rendering needs besides the templates. */
export interface RenderContext {
  Values: Record<string, unknown>;
  Release: { Name: string; Namespace: string };
  Chart: Record<string, unknown>;
}

/** A rendered chart: manifests by template file, and the value paths read (`ociRegistry.password`). */
export interface Rendered {
  files: Record<string, string>;
  used: Set<string>;
}

/** Renders every template of the chart in `dir` with `values` merged over its values.yaml (already parsed). */
export function renderChart(
  templates: Record<string, string>,
  context: RenderContext,
): Rendered {
  const used = new Set<string>();
  const defines = new Map<string, Node[]>();
  const parsed = Object.fromEntries(
    Object.entries(templates).map(([name, text]) => [name, parse(tokenize(text), defines, name)]),
  );
  const files: Record<string, string> = {};
  for (const [name, nodes] of Object.entries(parsed)) {
    if (name.startsWith("_")) continue;
    files[name] = evaluate(nodes, context, { defines, used });
  }
  return { files, used };
}

type Token = { kind: "text"; text: string } | { kind: "action"; body: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  let trimNext = false;
  while (at < text.length) {
    const open = text.indexOf("{{", at);
    let chunk = text.slice(at, open === -1 ? text.length : open);
    if (trimNext) chunk = chunk.replace(/^\s+/, "");
    if (open === -1) {
      tokens.push({ kind: "text", text: chunk });
      break;
    }
    const close = text.indexOf("}}", open);
    if (close === -1) throw new Error("unclosed {{");
    let body = text.slice(open + 2, close);
    if (body.startsWith("-")) {
      chunk = chunk.replace(/\s+$/, "");
      body = body.slice(1);
    }
    trimNext = body.endsWith("-");
    if (trimNext) body = body.slice(0, -1);
    tokens.push({ kind: "text", text: chunk }, { kind: "action", body: body.trim() });
    at = close + 2;
  }
  return tokens;
}

function parse(tokens: Token[], defines: Map<string, Node[]>, file: string): Node[] {
  let at = 0;
  const block = (): { nodes: Node[]; end: "end" | "else" | "eof" } => {
    const nodes: Node[] = [];
    while (at < tokens.length) {
      const token = tokens[at++];
      if (token.kind === "text") {
        if (token.text !== "") nodes.push({ kind: "text", text: token.text });
        continue;
      }
      const body = token.body;
      if (body === "end" || body === "else") return { nodes, end: body };
      if (body.startsWith("/*") && body.endsWith("*/")) continue;
      const define = body.match(/^define "([^"]+)"$/);
      if (define) {
        const inner = block();
        if (inner.end !== "end") throw new Error(`${file}: define ${define[1]} without end`);
        defines.set(define[1], inner.nodes);
        continue;
      }
      if (body.startsWith("if ")) {
        const then = block();
        let otherwise: Node[] = [];
        if (then.end === "else") {
          const rest = block();
          if (rest.end !== "end") throw new Error(`${file}: else without end`);
          otherwise = rest.nodes;
        } else if (then.end !== "end") throw new Error(`${file}: if without end`);
        nodes.push({ kind: "if", pipeline: body.slice(3), then: then.nodes, otherwise });
        continue;
      }
      if (/^(range|with|template|block|\/\*)/.test(body)) throw new Error(`${file}: '${body}' is not supported`);
      nodes.push({ kind: "action", pipeline: body });
    }
    return { nodes, end: "eof" };
  };
  const top = block();
  if (top.end !== "eof") throw new Error(`${file}: unexpected ${top.end}`);
  return top.nodes;
}

interface State {
  defines: Map<string, Node[]>;
  used: Set<string>;
}

function evaluate(nodes: Node[], dot: unknown, state: State): string {
  let out = "";
  for (const node of nodes) {
    if (node.kind === "text") out += node.text;
    else if (node.kind === "action") out += show(pipeline(node.pipeline, dot, state));
    else out += evaluate(truthy(pipeline(node.pipeline, dot, state)) ? node.then : node.otherwise, dot, state);
  }
  return out;
}

function truthy(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === "") return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "object") return Object.keys(value).length > 0;
  return true;
}

function show(value: unknown): string {
  if (value === undefined || value === null) throw new Error("a template printed a missing value");
  if (typeof value === "object") throw new Error(`a template printed a map or list without toYaml`);
  return String(value);
}

/** Splits on `|` and spaces outside string literals. */
function words(text: string): string[] {
  return text.match(/"(?:[^"\\]|\\.)*"|[^\s]+/g) ?? [];
}

function pipeline(text: string, dot: unknown, state: State): unknown {
  const commands = text.split(/\|(?=(?:[^"]*"[^"]*")*[^"]*$)/).map((c) => words(c.trim()));
  let value: unknown = undefined;
  commands.forEach((command, i) => {
    const args = command.slice(1).map((w) => operand(w, dot, state));
    if (i > 0) args.push(value);
    value = FUNCTIONS[command[0]] ? FUNCTIONS[command[0]](state, ...args) : operand(command[0], dot, state);
    if (!FUNCTIONS[command[0]] && (command.length > 1 || i > 0)) throw new Error(`unknown function ${command[0]}`);
  });
  return value;
}

function operand(word: string, dot: unknown, state: State): unknown {
  if (word.startsWith('"')) return JSON.parse(word);
  if (/^-?\d+(\.\d+)?$/.test(word)) return Number(word);
  if (word === ".") return dot;
  if (word.startsWith(".")) {
    const path = word.slice(1).split(".");
    if (path[0] === "Values") markUsed(path.slice(1).join("."), state);
    let value: unknown = dot;
    for (const key of path) value = (value as Record<string, unknown> | undefined)?.[key];
    if (path[0] === "Values" && value !== null && typeof value === "object") markLeaves(path.slice(1), value, state);
    return value;
  }
  throw new Error(`unsupported operand ${word}`);
}

function markUsed(path: string, state: State): void {
  state.used.add(path);
}

function markLeaves(prefix: string[], value: object, state: State): void {
  for (const [key, inner] of Object.entries(value)) {
    if (inner !== null && typeof inner === "object") markLeaves([...prefix, key], inner, state);
    else state.used.add([...prefix, key].join("."));
  }
}

const FUNCTIONS: Record<string, (state: State, ...args: unknown[]) => unknown> = {
  include: (state, name, dot) => {
    const nodes = state.defines.get(name as string);
    if (!nodes) throw new Error(`include of unknown template ${name}`);
    return evaluate(nodes, dot, state);
  },
  quote: (_s, value) => JSON.stringify(String(value ?? "")),
  default: (_s, fallback, value) => truthy(value) ? value : fallback,
  and: (_s, ...values) => {
    const falsy = values.findIndex((v) => !truthy(v));
    return values[falsy === -1 ? values.length - 1 : falsy];
  },
  or: (_s, ...values) => values.find(truthy) ?? values[values.length - 1],
  not: (_s, value) => !truthy(value),
  toYaml: (_s, value) => toYaml(value, 0).replace(/\n$/, ""),
  indent: (_s, n, text) => String(text).split("\n").map((l) => " ".repeat(n as number) + l).join("\n"),
  sha256sum: (_s, text) => createHash("sha256").update(String(text)).digest("hex"),
  nindent: (_s, n, text) => "\n" + String(text).split("\n").map((l) => " ".repeat(n as number) + l).join("\n"),
};

function toYaml(value: unknown, depth: number): string {
  const pad = "  ".repeat(depth);
  if (Array.isArray(value)) return value.map((v) => `${pad}- ${JSON.stringify(v)}\n`).join("");
  if (value !== null && typeof value === "object") {
    return Object.entries(value).map(([k, v]) =>
      v !== null && typeof v === "object"
        ? `${pad}${k}:\n${toYaml(v, depth + 1)}`
        : `${pad}${k}: ${JSON.stringify(v)}\n`
    ).join("");
  }
  return `${pad}${JSON.stringify(value)}\n`;
}
