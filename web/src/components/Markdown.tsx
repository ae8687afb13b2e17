/** Markdown text as React elements (lib/markdown.ts): HTML in it is shown as text, never run. */
import { useMemo, type ReactNode } from "react";
import { parseMarkdown, type Block, type Inline } from "../lib/markdown";

/** `topLevel`: the heading level a `#` heading gets, so the text fits under the page's own headings. */
export function Markdown({ text, topLevel = 3, className = "markdown" }: { text: string; topLevel?: number; className?: string }) {
  const blocks = useMemo(() => parseMarkdown(text), [text]);
  return <div className={className}>{blocks.map((b, i) => renderBlock(b, i, topLevel))}</div>;
}

function renderBlock(block: Block, key: number, topLevel: number): ReactNode {
  switch (block.kind) {
    case "heading": {
      const Tag = `h${Math.min(6, block.level + topLevel - 1)}` as "h3";
      return <Tag key={key}>{renderInline(block.inline)}</Tag>;
    }
    case "paragraph":
      return <p key={key}>{renderInline(block.inline)}</p>;
    case "code":
      return (
        <pre key={key} data-lang={block.lang || undefined}>
          <code>{block.text}</code>
        </pre>
      );
    case "list": {
      const items = block.items.map((item, i) => <li key={i}>{renderInline(item)}</li>);
      return block.ordered ? <ol key={key}>{items}</ol> : <ul key={key}>{items}</ul>;
    }
    case "quote":
      return <blockquote key={key}>{block.blocks.map((b, i) => renderBlock(b, i, topLevel))}</blockquote>;
    case "rule":
      return <hr key={key} />;
  }
}

function renderInline(parts: Inline[]): ReactNode[] {
  return parts.map((part, i) => {
    switch (part.kind) {
      case "text":
        return part.text;
      case "code":
        return <code key={i}>{part.text}</code>;
      case "strong":
        return <strong key={i}>{renderInline(part.children)}</strong>;
      case "em":
        return <em key={i}>{renderInline(part.children)}</em>;
      case "link":
        return (
          <a key={i} href={part.href} rel="noopener noreferrer nofollow">
            {renderInline(part.children)}
          </a>
        );
    }
  });
}
