/** Markdown someone wrote, rendered safely (lib/markdown.ts: no raw HTML, sanitized). */
import { useMemo } from "react";
import { safeMarkdown } from "../../lib/markdown";

export function Markdown({ text }: { text: string }) {
  const html = useMemo(() => safeMarkdown(text), [text]);
  // safe: raw HTML was escaped, then DOMPurify kept only the allowed tags and attributes
  return <div className="markdown" dangerouslySetInnerHTML={{ __html: html }} />;
}
