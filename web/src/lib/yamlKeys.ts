/**
 * Where a configuration key sits in YAML text, so the sweep editor can show the server's errors
 * (`{key: "parameters.lr.distribution", message}`) beside the line that holds the key. Not a YAML
 * parser: the server parses and validates; this only follows block-mapping indentation, which is
 * how sweep configurations are written. A key it cannot place (flow style, JSON) gets no line.
 */

const KEY_LINE = /^(\s*)(?:-\s+)?("[^"]*"|'[^']*'|[^\s#'"][^:#]*?)\s*:(?:\s|$)/;

/** The 1-based line of every block-mapping key, by its dotted path (the first line wins). */
export function keyLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  const stack: { indent: number; key: string }[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (/^\s*(#|$)/.test(line) || /^\s*(---|\.\.\.)\s*$/.test(line)) return;
    const match = KEY_LINE.exec(line);
    if (!match) return;
    const indent = (match[1] ?? "").length;
    const key = (match[2] ?? "").replace(/^(["'])(.*)\1$/, "$2");
    while (stack.length > 0 && (stack[stack.length - 1] as { indent: number }).indent >= indent) stack.pop();
    stack.push({ indent, key });
    const path = stack.map((s) => s.key).join(".");
    if (!lines.has(path)) lines.set(path, index + 1);
  });
  return lines;
}

/**
 * The line an error about `key` belongs on: the key's own line, else its nearest parent's (a
 * missing `max` shows at its parameter), else a line number the message itself names (a YAML
 * syntax error); null when none is known.
 */
export function lineOfKey(lines: Map<string, number>, key: string, message = ""): number | null {
  const parts = key.replace(/\[\d+\]/g, "").split(".").filter(Boolean);
  for (let n = parts.length; n > 0; n--) {
    const line = lines.get(parts.slice(0, n).join("."));
    if (line !== undefined) return line;
  }
  const named = /\bline (\d+)/i.exec(message);
  return named ? Number(named[1]) : null;
}
