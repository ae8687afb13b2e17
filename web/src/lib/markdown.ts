/**
 * The small Markdown the app renders (a project's description): headings, paragraphs, lists,
 * quotes, fenced code, rules, and inline code, strong, emphasis and links. It parses into plain
 * data that components/Markdown.tsx turns into React elements, so HTML in the text stays text:
 * there is no way to inject markup, and a link only keeps a web, mail or relative address.
 */

export type Inline =
  | { kind: "text"; text: string }
  | { kind: "code"; text: string }
  | { kind: "strong" | "em"; children: Inline[] }
  | { kind: "link"; href: string; children: Inline[] };

export type Block =
  | { kind: "heading"; level: number; inline: Inline[] }
  | { kind: "paragraph"; inline: Inline[] }
  | { kind: "code"; lang: string; text: string }
  | { kind: "list"; ordered: boolean; items: Inline[][] }
  | { kind: "quote"; blocks: Block[] }
  | { kind: "rule" };

const FENCE = /^\s{0,3}(`{3,}|~{3,})\s*([\w+-]*)/;
const HEADING = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const RULE = /^\s{0,3}([-*_])(\s*\1){2,}\s*$/;
const QUOTE = /^\s{0,3}>\s?(.*)$/;
const BULLET = /^\s{0,3}[-*+]\s+(.*)$/;
const NUMBERED = /^\s{0,3}\d{1,9}[.)]\s+(.*)$/;

/** Where a link may lead: http(s), mailto, or a relative address (no `javascript:`, `data:`…).
 * Browsers ignore control characters and blanks inside a scheme, so they are dropped before it is read. */
export function safeHref(href: string): string | null {
  const bare = [...href].filter((c) => c > " " && c !== "\u007f").join("");
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(bare);
  if (!scheme) return bare.startsWith("//") ? null : href.trim();
  return ["http", "https", "mailto"].includes((scheme[1] as string).toLowerCase()) ? href.trim() : null;
}

const INLINE = /`([^`]+)`|\*\*(.+?)\*\*|__(.+?)__|\*([^*\s](?:[^*]*?[^*\s])?)\*|\b_([^_\s](?:[^_]*?[^_\s])?)_\b|\[([^\]]+)\]\(\s*([^)\s]+)\s*\)/;

export function parseInline(text: string): Inline[] {
  const out: Inline[] = [];
  let rest = text;
  for (let found = INLINE.exec(rest); found; found = INLINE.exec(rest)) {
    if (found.index > 0) out.push({ kind: "text", text: rest.slice(0, found.index) });
    const [all, code, strong, strong2, em, em2, label, href] = found;
    if (code !== undefined) out.push({ kind: "code", text: code });
    else if (strong !== undefined || strong2 !== undefined) out.push({ kind: "strong", children: parseInline(strong ?? strong2 ?? "") });
    else if (em !== undefined || em2 !== undefined) out.push({ kind: "em", children: parseInline(em ?? em2 ?? "") });
    else {
      const safe = safeHref(href ?? "");
      const children = parseInline(label ?? "");
      if (safe) out.push({ kind: "link", href: safe, children });
      else out.push(...children); // an address it may not lead to: its text only
    }
    rest = rest.slice(found.index + all.length);
  }
  if (rest) out.push({ kind: "text", text: rest });
  return out;
}

/** Parse `text` into blocks; anything not recognised is a paragraph. */
export function parseMarkdown(text: string): Block[] {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    const fence = FENCE.exec(line);
    if (!line.trim()) {
      i += 1;
    } else if (fence) {
      const marker = fence[1] as string;
      const body: string[] = [];
      for (i += 1; i < lines.length && !(lines[i] as string).trim().startsWith(marker); i += 1) body.push(lines[i] as string);
      blocks.push({ kind: "code", lang: fence[2] ?? "", text: body.join("\n") });
      i += 1; // the closing fence (or past the end)
    } else if (HEADING.test(line)) {
      const [, hashes, title] = HEADING.exec(line) as RegExpExecArray;
      blocks.push({ kind: "heading", level: (hashes as string).length, inline: parseInline(title ?? "") });
      i += 1;
    } else if (RULE.test(line)) {
      blocks.push({ kind: "rule" });
      i += 1;
    } else if (QUOTE.test(line)) {
      const quoted: string[] = [];
      for (; i < lines.length && QUOTE.test(lines[i] as string); i += 1) quoted.push((QUOTE.exec(lines[i] as string) as RegExpExecArray)[1] ?? "");
      blocks.push({ kind: "quote", blocks: parseMarkdown(quoted.join("\n")) });
    } else if (BULLET.test(line) || NUMBERED.test(line)) {
      i = parseList(lines, i, blocks);
    } else {
      const para: string[] = [];
      for (; i < lines.length && (lines[i] as string).trim() && !startsBlock(lines[i] as string); i += 1) para.push((lines[i] as string).trim());
      blocks.push({ kind: "paragraph", inline: parseInline(para.join(" ")) });
    }
  }
  return blocks;
}

function startsBlock(line: string): boolean {
  return [FENCE, HEADING, RULE, QUOTE, BULLET, NUMBERED].some((re) => re.test(line));
}

/** The list starting at `lines[start]` (items of its kind; indented lines continue an item); answers where it ends. */
function parseList(lines: string[], start: number, blocks: Block[]): number {
  const ordered = NUMBERED.test(lines[start] as string);
  const item = ordered ? NUMBERED : BULLET;
  const items: string[] = [];
  let i = start;
  for (; i < lines.length; i += 1) {
    const line = lines[i] as string;
    const found = item.exec(line);
    if (found) items.push(found[1] ?? "");
    else if (/^\s{2,}\S/.test(line) && items.length > 0) items[items.length - 1] += ` ${line.trim()}`;
    else break;
  }
  blocks.push({ kind: "list", ordered, items: items.map(parseInline) });
  return i;
}
