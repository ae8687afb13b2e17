import { describe, expect, it } from "vitest";
import { parseInline, parseMarkdown, safeHref } from "../src/lib/markdown";

describe("parseMarkdown", () => {
  it("reads headings, paragraphs, lists, quotes, rules and fenced code", () => {
    const text = "# Goal\n\nBeat the **baseline**\nby 2%.\n\n- fp16\n- warm-up\n  longer\n\n1. one\n2. two\n\n> note\n\n---\n\n```python\nx = '<b>'\n```";
    expect(parseMarkdown(text)).toEqual([
      { kind: "heading", level: 1, inline: [{ kind: "text", text: "Goal" }] },
      {
        kind: "paragraph",
        inline: [{ kind: "text", text: "Beat the " }, { kind: "strong", children: [{ kind: "text", text: "baseline" }] }, { kind: "text", text: " by 2%." }],
      },
      { kind: "list", ordered: false, items: [[{ kind: "text", text: "fp16" }], [{ kind: "text", text: "warm-up longer" }]] },
      { kind: "list", ordered: true, items: [[{ kind: "text", text: "one" }], [{ kind: "text", text: "two" }]] },
      { kind: "quote", blocks: [{ kind: "paragraph", inline: [{ kind: "text", text: "note" }] }] },
      { kind: "rule" },
      { kind: "code", lang: "python", text: "x = '<b>'" },
    ]);
  });

  it("keeps an unclosed fence's lines as code and HTML as text", () => {
    expect(parseMarkdown("```\n<script>alert(1)</script>")).toEqual([{ kind: "code", lang: "", text: "<script>alert(1)</script>" }]);
    expect(parseMarkdown("<img src=x onerror=alert(1)>")).toEqual([{ kind: "paragraph", inline: [{ kind: "text", text: "<img src=x onerror=alert(1)>" }] }]);
  });
});

describe("parseInline", () => {
  it("reads code, emphasis and links, nothing inside code", () => {
    expect(parseInline("`a*b*` *c* _d_ snake_case [docs](https://x.org/a)")).toEqual([
      { kind: "code", text: "a*b*" },
      { kind: "text", text: " " },
      { kind: "em", children: [{ kind: "text", text: "c" }] },
      { kind: "text", text: " " },
      { kind: "em", children: [{ kind: "text", text: "d" }] },
      { kind: "text", text: " snake_case " },
      { kind: "link", href: "https://x.org/a", children: [{ kind: "text", text: "docs" }] },
    ]);
  });

  it("drops a link to a script, keeping its text", () => {
    expect(parseInline("[click](javascript:alert(1))")).toEqual([{ kind: "text", text: "click" }, { kind: "text", text: ")" }]);
    expect(parseInline("[x](data:text/html,hi)")).toEqual([{ kind: "text", text: "x" }]);
  });
});

describe("safeHref", () => {
  it("allows web, mail and relative addresses only", () => {
    expect(safeHref("https://example.org")).toBe("https://example.org");
    expect(safeHref("mailto:a@b.c")).toBe("mailto:a@b.c");
    expect(safeHref("/team/p/runs/r1")).toBe("/team/p/runs/r1");
    expect(safeHref("#section")).toBe("#section");
    for (const bad of ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "java\tscript:alert(1)", " javascript:x", "vbscript:x", "data:text/html,x", "//evil.example"])
      expect(safeHref(bad)).toBeNull();
  });
});
