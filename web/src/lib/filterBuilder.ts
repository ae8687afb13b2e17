/**
 * The filter builder's model: a list of clauses and-ed together, written in the server's filter
 * language (see server/query/filters.py), and read back from it when the text is such a list.
 *
 *   [{field: "config.lr", op: "<", value: "0.01"}, {field: "state", op: "=", value: "finished"}]
 *   ⇄  config.lr < 0.01 and state = "finished"
 */

export const OPERATORS = ["=", "!=", "<", "<=", ">", ">=", "contains", "not contains", "in", "not in"] as const;
export type Operator = (typeof OPERATORS)[number];

export interface Clause {
  /** A field path: `state`, `config.optimizer.lr`, `summary.eval/acc`, `summary.loss.min`. */
  field: string[];
  op: Operator;
  /** What the person typed; numbers, true/false/null stay bare, the rest is quoted. For `in`, comma separated. */
  value: string;
}

const BARE_SEGMENT = /^[^\s()`,=!<>'".]+$/;
const KEYWORDS = new Set(["and", "or", "not", "in", "contains", "true", "false", "null", "inf", "infinity"]);
const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** One path segment, in backticks when it is not a plain name. */
export function quoteSegment(segment: string, first: boolean): string {
  const plain = BARE_SEGMENT.test(segment) && !(first && KEYWORDS.has(segment.toLowerCase()));
  return plain ? segment : "`" + segment.replaceAll("`", "``") + "`";
}

export function formatField(path: string[]): string {
  return path.map((s, i) => quoteSegment(s, i === 0)).join(".");
}

/** A typed value as a literal: a number, true/false/null, or a double-quoted string. */
export function formatLiteral(text: string): string {
  const t = text.trim();
  if (NUMBER.test(t)) return t;
  const lower = t.toLowerCase();
  if (lower === "true" || lower === "false" || lower === "null") return lower;
  if (/^[-+]?(inf|infinity)$/i.test(t)) return t.toLowerCase();
  const unquoted = /^"(.*)"$|^'(.*)'$/s.exec(t);
  return JSON.stringify(unquoted ? (unquoted[1] ?? unquoted[2] ?? "") : t);
}

function splitList(text: string): string[] {
  // Commas inside quotes belong to the value.
  const items: string[] = [];
  let current = "";
  let quote: string | null = null;
  for (const ch of text) {
    if (quote) {
      current += ch;
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      current += ch;
    } else if (ch === ",") {
      items.push(current);
      current = "";
    } else current += ch;
  }
  items.push(current);
  return items.map((s) => s.trim()).filter((s) => s.length > 0);
}

export function formatClause(clause: Clause): string {
  const field = formatField(clause.field);
  if (clause.op === "in" || clause.op === "not in") {
    const items = splitList(clause.value).map(formatLiteral);
    return `${field} ${clause.op} (${items.join(", ")})`;
  }
  return `${field} ${clause.op} ${formatLiteral(clause.value)}`;
}

/** Clauses as one filter: and-ed, each complete one only. */
export function formatFilter(clauses: Clause[]): string {
  return clauses
    .filter((c) => c.field.length > 0 && c.field.every((s) => s.length > 0) && c.value.trim() !== "")
    .map(formatClause)
    .join(" and ");
}

// -- reading a filter back -----------------------------------------------------------------------

type Token =
  | { kind: "field"; path: string[]; raw: string }
  | { kind: "keyword"; word: string }
  | { kind: "op"; op: string }
  | { kind: "literal"; text: string }
  | { kind: "punct"; ch: string };

function tokenize(text: string): Token[] | null {
  const tokens: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const ch = text[i] as string;
    if (/\s/.test(ch)) {
      i++;
    } else if ("(),".includes(ch)) {
      tokens.push({ kind: "punct", ch });
      i++;
    } else if ("=!<>".includes(ch)) {
      const two = text.slice(i, i + 2);
      if (["==", "!=", "<>", "<=", ">="].includes(two)) {
        tokens.push({ kind: "op", op: two === "==" ? "=" : two === "<>" ? "!=" : two });
        i += 2;
      } else if (ch === "!") return null;
      else {
        tokens.push({ kind: "op", op: ch });
        i++;
      }
    } else if (ch === '"' || ch === "'") {
      let j = i + 1;
      let value = "";
      let closed = false;
      while (j < n) {
        const c = text[j] as string;
        if (c === ch) {
          closed = true;
          j++;
          break;
        }
        if (c === "\\") {
          const code = text[j + 1];
          const map: Record<string, string> = { n: "\n", t: "\t", r: "\r", b: "\b", f: "\f", "/": "/", "\\": "\\", '"': '"', "'": "'" };
          if (code === "u") {
            value += String.fromCharCode(parseInt(text.slice(j + 2, j + 6), 16));
            j += 6;
            continue;
          }
          if (code === undefined || !(code in map)) return null;
          value += map[code];
          j += 2;
          continue;
        }
        value += c;
        j++;
      }
      if (!closed) return null;
      tokens.push({ kind: "literal", text: JSON.stringify(value) });
      i = j;
    } else if (/[\d.+-]/.test(ch)) {
      const m = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|^[-+](?:infinity|inf)\b/i.exec(text.slice(i));
      if (!m) return null;
      tokens.push({ kind: "literal", text: m[0] });
      i += m[0].length;
    } else {
      // a path: segments separated by '.', bare or `quoted`
      const start = i;
      const path: string[] = [];
      for (;;) {
        if (text[i] === "`") {
          let j = i + 1;
          let seg = "";
          for (;;) {
            if (j >= n) return null;
            if (text[j] === "`") {
              if (text[j + 1] === "`") {
                seg += "`";
                j += 2;
                continue;
              }
              j++;
              break;
            }
            seg += text[j];
            j++;
          }
          path.push(seg);
          i = j;
        } else {
          const m = /^[^\s()`,=!<>'".]+/.exec(text.slice(i));
          if (!m) return null;
          path.push(m[0]);
          i += m[0].length;
        }
        if (text[i] === ".") {
          i++;
          continue;
        }
        break;
      }
      const raw = text.slice(start, i);
      const word = raw.toLowerCase();
      if (path.length === 1 && !raw.startsWith("`") && KEYWORDS.has(word)) {
        if (["true", "false", "null", "inf", "infinity"].includes(word)) tokens.push({ kind: "literal", text: word });
        else tokens.push({ kind: "keyword", word });
      } else tokens.push({ kind: "field", path, raw });
    }
  }
  return tokens;
}

function literalText(token: Token | undefined): string | null {
  if (!token || token.kind !== "literal") return null;
  // Strings come back without their quotes, unless the text would read as something else.
  if (token.text.startsWith('"')) {
    const value = JSON.parse(token.text) as string;
    const bare = formatLiteral(value);
    return bare === token.text ? value : token.text;
  }
  return token.text;
}

/**
 * The clauses of a filter that is a plain and-list of comparisons; null for anything else
 * (or, not, parentheses), which only the text box can edit. An empty filter is an empty list.
 */
export function parseFilter(text: string): Clause[] | null {
  const tokens = tokenize(text);
  if (tokens === null) return null;
  const clauses: Clause[] = [];
  let i = 0;
  while (i < tokens.length) {
    const field = tokens[i];
    if (!field || field.kind !== "field") return null;
    i++;
    let t = tokens[i];
    let op: Operator;
    let negated = false;
    if (t?.kind === "keyword" && t.word === "not") {
      negated = true;
      i++;
      t = tokens[i];
    }
    if (t?.kind === "op" && !negated) {
      op = t.op as Operator;
      i++;
      const value = literalText(tokens[i]);
      if (value === null) return null;
      i++;
      clauses.push({ field: field.path, op, value });
    } else if (t?.kind === "keyword" && t.word === "contains") {
      i++;
      const value = literalText(tokens[i]);
      if (value === null) return null;
      i++;
      clauses.push({ field: field.path, op: negated ? "not contains" : "contains", value });
    } else if (t?.kind === "keyword" && t.word === "in") {
      i++;
      const open = tokens[i];
      if (open?.kind !== "punct" || open.ch !== "(") return null;
      i++;
      const items: string[] = [];
      for (;;) {
        const value = literalText(tokens[i]);
        if (value === null) return null;
        items.push(value.includes(",") && !value.startsWith('"') ? JSON.stringify(value) : value);
        i++;
        const next = tokens[i];
        if (next?.kind === "punct" && next.ch === ",") {
          i++;
          continue;
        }
        if (next?.kind === "punct" && next.ch === ")") {
          i++;
          break;
        }
        return null;
      }
      clauses.push({ field: field.path, op: negated ? "not in" : "in", value: items.join(", ") });
    } else return null;
    const sep = tokens[i];
    if (sep === undefined) break;
    if (sep.kind === "keyword" && sep.word === "and") {
      i++;
      if (i >= tokens.length) return null;
      continue;
    }
    return null;
  }
  return clauses;
}

/** A field path typed as text ("config.optimizer.lr", "summary.`a.b`") as segments. */
export function parseFieldPath(text: string): string[] | null {
  const tokens = tokenize(text.trim());
  if (!tokens || tokens.length !== 1) return null;
  const only = tokens[0];
  return only && only.kind === "field" ? only.path : null;
}
