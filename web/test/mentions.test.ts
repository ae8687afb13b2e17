import { describe, expect, it } from "vitest";
import { markdownToHtml } from "../src/lib/markdown";
import { insertMention, mentionAt } from "../src/lib/mentions";

describe("mentionAt", () => {
  it("finds the @ word being typed at the caret", () => {
    expect(mentionAt("hi @al", 6)).toEqual({ start: 3, prefix: "al" });
    expect(mentionAt("@", 1)).toEqual({ start: 0, prefix: "" });
    expect(mentionAt("(@bob.s", 7)).toEqual({ start: 1, prefix: "bob.s" });
  });
  it("ignores e-mail addresses, finished words and code", () => {
    expect(mentionAt("mail me@lab", 11)).toBeNull();
    expect(mentionAt("@al done", 8)).toBeNull();
    expect(mentionAt("`@al", 4)).toBeNull();
  });
});

describe("insertMention", () => {
  it("replaces the typed prefix and puts the caret after the name", () => {
    expect(insertMention("hi @al and", 3, 6, "alice")).toEqual({ text: "hi @alice  and", caret: 10 });
  });
});

describe("markdownToHtml", () => {
  it("renders markdown and code blocks", () => {
    expect(markdownToHtml("**lr** `3e-4`")).toBe("<p><strong>lr</strong> <code>3e-4</code></p>\n");
    expect(markdownToHtml("```py\nx = 1 < 2\n```")).toContain("x = 1 &lt; 2");
  });
  it("shows raw HTML as text and leaves images out", () => {
    const html = markdownToHtml('<script>alert(1)</script>\n\nhi <img src=x onerror="alert(2)"> ![pic](http://evil.example/p.png)');
    expect(html).not.toContain("<script");
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;script&gt;");
    expect(html).toContain("pic");
  });
});
