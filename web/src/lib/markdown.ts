/**
 * Markdown people write (comments) as HTML that is safe to insert: raw HTML in the text is shown
 * as text (never parsed), and the result is sanitized again with DOMPurify (tags and attributes
 * from an allow list, links only to http(s) and mailto, opened in a new tab without an opener).
 * Images are left out: a comment must not make readers' browsers fetch from other hosts.
 */
import DOMPurify from "dompurify";
import { Marked } from "marked";

const escapes: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => escapes[c] ?? c);

/** A Marked whose `#` headings start at `topLevel` (h1 by default). */
function makeMarked(topLevel: number): Marked {
  return new Marked({
    gfm: true,
    breaks: true,
    renderer: {
      html: ({ text }) => escapeHtml(text),
      image: ({ text }) => escapeHtml(text),
      heading({ tokens, depth }) {
        const level = Math.min(6, depth + topLevel - 1);
        return `<h${level}>${this.parser.parseInline(tokens)}</h${level}>\n`;
      },
    },
  });
}

const markeds = new Map<number, Marked>();

/** The markdown as HTML with any raw HTML of the text escaped (not yet sanitized). */
export function markdownToHtml(text: string, topLevel = 1): string {
  let marked = markeds.get(topLevel);
  if (!marked) markeds.set(topLevel, (marked = makeMarked(topLevel)));
  return marked.parse(text, { async: false });
}

const ALLOWED_TAGS = ["a", "p", "br", "hr", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "input"];
const SAFE_URL = /^(?:https?:|mailto:|#|\/)/i;

let hooked = false;
function hook(): void {
  if (hooked) return;
  hooked = true;
  DOMPurify.addHook("afterSanitizeAttributes", (node) => {
    if (node.tagName === "A") {
      const href = node.getAttribute("href") ?? "";
      if (!SAFE_URL.test(href.trim())) node.removeAttribute("href");
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer nofollow");
    }
    if (node.tagName === "INPUT" && node.getAttribute("type") !== "checkbox") node.remove();
  });
}

/** Markdown → sanitized HTML, for `dangerouslySetInnerHTML`. */
export function safeMarkdown(text: string, topLevel = 1): string {
  hook();
  return DOMPurify.sanitize(markdownToHtml(text, topLevel), {
    ALLOWED_TAGS,
    ALLOWED_ATTR: ["href", "title", "start", "align", "type", "checked", "disabled", "target", "rel"],
  });
}

/** The `topLevel` that renders the shallowest heading written in `text` at level `want`, so text
 * that starts at `##` or `###` still nests right under the page's own heading (fenced code's `#`
 * lines are not headings). */
export function topLevelFor(text: string, want: number): number {
  const prose = text.replace(/^(```|~~~)[\s\S]*?^\1/gm, "");
  let shallowest = 7;
  for (const m of prose.matchAll(/^ {0,3}(#{1,6})(?:[ \t]|$)/gm)) shallowest = Math.min(shallowest, (m[1] as string).length);
  return shallowest === 7 ? want : want - shallowest + 1;
}
