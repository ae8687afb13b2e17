/** `@name` autocomplete in a text box: which name is being typed at the caret, and putting one in. */

/** The `@` word that ends at the caret: where its `@` is and what follows it so far (null: none). */
export function mentionAt(text: string, caret: number): { start: number; prefix: string } | null {
  const before = text.slice(0, caret);
  const match = /(^|[^\w@`])@([\w.-]*)$/u.exec(before);
  if (!match) return null;
  const prefix = match[2] ?? "";
  return { start: caret - prefix.length - 1, prefix };
}

/** The text with the `@` word at `start`…`caret` replaced by `@name `, and the caret after it. */
export function insertMention(text: string, start: number, caret: number, name: string): { text: string; caret: number } {
  const inserted = `@${name} `;
  return { text: text.slice(0, start) + inserted + text.slice(caret), caret: start + inserted.length };
}
