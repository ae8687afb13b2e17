/**
 * Writing a comment: a markdown text box with a preview, and `@name` autocomplete from the
 * entity's members (arrow keys and Enter or Tab pick one, Escape closes the list).
 */
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { flushSync } from "react-dom";
import { useTranslation } from "react-i18next";
import { mentionable } from "../../api/endpoints";
import { errorMessage } from "../../i18n/errors";
import { insertMention, mentionAt } from "../../lib/mentions";
import { Markdown } from "../Markdown";

interface Props {
  entity: string;
  label: string;
  submitLabel: string;
  initial?: string;
  onSubmit: (text: string) => Promise<void>;
  onCancel?: () => void;
}

export function CommentBox({ entity, label, submitLabel, initial = "", onSubmit, onCancel }: Props) {
  const { t } = useTranslation();
  const ids = useId();
  const box = useRef<HTMLTextAreaElement>(null);
  const [text, setText] = useState(initial);
  const [preview, setPreview] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [typing, setTyping] = useState<{ start: number; prefix: string; caret: number } | null>(null);
  const [names, setNames] = useState<string[]>([]);
  const [active, setActive] = useState(0);

  const prefix = typing?.prefix ?? null;
  useEffect(() => {
    if (prefix === null) return;
    let stale = false;
    mentionable(entity, prefix)
      .then((found) => {
        if (!stale) {
          setNames(found.users);
          setActive(0);
        }
      })
      .catch(() => !stale && setNames([]));
    return () => {
      stale = true;
    };
  }, [entity, prefix]);

  const follow = (value: string, caret: number) => {
    setText(value);
    const found = mentionAt(value, caret);
    setTyping(found ? { ...found, caret } : null);
  };
  const pick = (name: string) => {
    if (!typing) return;
    const done = insertMention(text, typing.start, typing.caret, name);
    // The new text is committed before the caret moves behind the name, in this same event: a
    // key typed next must not land where the caret was (a later frame was too late under load).
    flushSync(() => {
      setText(done.text);
      setTyping(null);
    });
    box.current?.focus();
    box.current?.setSelectionRange(done.caret, done.caret);
  };
  const open = typing !== null && names.length > 0;
  const onKey = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (!open) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      setActive((i) => (i + (event.key === "ArrowDown" ? 1 : names.length - 1)) % names.length);
    } else if (event.key === "Enter" || event.key === "Tab") {
      event.preventDefault();
      pick(names[active] ?? names[0]!);
    } else if (event.key === "Escape") {
      event.preventDefault();
      setTyping(null);
    }
  };
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!text.trim()) return;
    setBusy(true);
    try {
      await onSubmit(text);
      setText("");
      setPreview(false);
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="comment-box" onSubmit={(e) => void submit(e)} aria-label={label}>
      <div className="comment-box-modes" role="group" aria-label={label}>
        <button type="button" aria-pressed={!preview} onClick={() => setPreview(false)}>
          {t("comments.write")}
        </button>
        <button type="button" aria-pressed={preview} onClick={() => setPreview(true)}>
          {t("comments.preview")}
        </button>
      </div>
      {preview ? (
        <div className="comment-preview" data-testid="comment-preview">
          {text.trim() ? <Markdown text={text} /> : <p className="muted">{t("comments.nothingToPreview")}</p>}
        </div>
      ) : (
        <div className="comment-input">
          <label htmlFor={`${ids}-text`} className="sr-only">
            {label}
          </label>
          <textarea
            id={`${ids}-text`}
            ref={box}
            rows={4}
            value={text}
            placeholder={t("comments.placeholder")}
            aria-autocomplete="list"
            aria-controls={`${ids}-names`}
            aria-activedescendant={open ? `${ids}-name-${active}` : undefined}
            onChange={(e) => follow(e.target.value, e.target.selectionStart)}
            onKeyDown={onKey}
            onBlur={() => setTimeout(() => setTyping(null), 150)}
          />
          <ul id={`${ids}-names`} role="listbox" aria-label={t("comments.mentionList")} className="mention-list" hidden={!open}>
            {open &&
              names.map((name, i) => (
                <li
                  key={name}
                  id={`${ids}-name-${i}`}
                  role="option"
                  aria-selected={i === active}
                  onMouseDown={(e) => {
                    e.preventDefault();
                    pick(name);
                  }}
                >
                  @{name}
                </li>
              ))}
          </ul>
        </div>
      )}
      <div className="buttons">
        <button type="submit" disabled={busy || !text.trim()}>
          {submitLabel}
        </button>
        {onCancel && (
          <button type="button" onClick={onCancel}>
            {t("manage.cancel")}
          </button>
        )}
        <span className="muted small">{t("comments.markdownHint")}</span>
      </div>
      {error && <p role="alert" className="error">{error}</p>}
    </form>
  );
}
