/** Markdown someone wrote (a comment, a project's description), rendered safely (lib/markdown.ts:
 * raw HTML shown as text, then sanitized). `topLevel`: the level a `#` heading gets, so the text
 * fits under the page's own headings. */
import { useMemo } from "react";
import { safeMarkdown } from "../lib/markdown";

export function Markdown({ text, topLevel = 1, className = "markdown" }: { text: string; topLevel?: number; className?: string }) {
  const html = useMemo(() => safeMarkdown(text, topLevel), [text, topLevel]);
  // safe: raw HTML was escaped, then DOMPurify kept only the allowed tags and attributes
  return <div className={className} dangerouslySetInnerHTML={{ __html: html }} />;
}
