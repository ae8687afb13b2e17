/**
 * The run filter: a text box in the server's filter language, and a builder that writes the
 * same text from field / operator / value rows. The server parses it; its error (with the
 * position) is shown under the box. `/` anywhere on the page (but in a text field) puts the cursor in
 * the box; Escape in the builder closes it.
 */
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { useTranslation } from "react-i18next";
import type { FilterErrorBody } from "../api/types";
import { describeError } from "../i18n/errors";
import { formatField, formatFilter, OPERATORS, parseFieldPath, parseFilter, type Clause, type Operator } from "../lib/filterBuilder";
import { isTyping } from "../lib/keyboard";

export interface FilterBarProps {
  value: string;
  onChange: (filter: string) => void;
  error: FilterErrorBody | null;
  /** Field paths to offer in the builder. */
  fields: string[];
}

export function FilterBar({ value, onChange, error, fields }: FilterBarProps) {
  const { t } = useTranslation();
  const [text, setText] = useState(value);
  const [builder, setBuilder] = useState(false);
  const inputId = useId();
  const listId = useId();
  const errorId = useId();
  useEffect(() => setText(value), [value]);
  const input = useRef<HTMLInputElement>(null);
  const builderToggle = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    function onKey(event: globalThis.KeyboardEvent) {
      if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented || isTyping(event.target)) return;
      event.preventDefault();
      input.current?.focus();
      input.current?.select();
    }
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);

  function onBuilderKey(event: KeyboardEvent<HTMLDivElement>) {
    if (event.key !== "Escape") return;
    event.preventDefault();
    setBuilder(false);
    builderToggle.current?.focus();
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    onChange(text.trim());
  }

  const clauses = parseFilter(text);
  function setClauses(next: Clause[]) {
    const written = formatFilter(next);
    setText(next.length > 0 && written === "" ? text : written);
    if (next.every((c) => c.value.trim() !== "")) onChange(written);
  }

  return (
    <div className="filter-bar">
      <form onSubmit={submit} role="search">
        <label htmlFor={inputId}>{t("workspace.filter")}</label>
        <input
          id={inputId}
          ref={input}
          className="filter-input"
          data-testid="filter"
          aria-keyshortcuts="/"
          value={text}
          placeholder={t("workspace.filterPlaceholder")}
          onChange={(e) => setText(e.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? errorId : undefined}
          spellCheck={false}
        />
        <button type="submit">{t("workspace.filterApply")}</button>
        {value && (
          <button type="button" onClick={() => onChange("")}>
            {t("workspace.filterClear")}
          </button>
        )}
        <button type="button" ref={builderToggle} aria-expanded={builder} onClick={() => setBuilder(!builder)}>
          {t("workspace.filterBuilder")}
        </button>
      </form>
      {error && (
        <p id={errorId} role="alert" className="error" data-testid="filter-error">
          {describeError(error.code, error.detail)}
        </p>
      )}
      {builder && (
        <div className="builder" data-testid="filter-builder" onKeyDown={onBuilderKey}>
          <datalist id={listId}>
            {fields.map((f) => (
              <option key={f} value={f} />
            ))}
          </datalist>
          {clauses === null ? (
            <p className="muted">{t("workspace.filterAdvanced")}</p>
          ) : (
            <>
              {clauses.map((c, i) => (
                <ClauseRow
                  key={i}
                  clause={c}
                  listId={listId}
                  onChange={(next) => setClauses(clauses.map((old, j) => (j === i ? next : old)))}
                  onRemove={() => setClauses(clauses.filter((_, j) => j !== i))}
                />
              ))}
              <button type="button" onClick={() => setClauses([...clauses, { field: ["state"], op: "=", value: "" }])}>
                + {t("workspace.addClause")}
              </button>
            </>
          )}
        </div>
      )}
    </div>
  );
}

function ClauseRow({ clause, listId, onChange, onRemove }: { clause: Clause; listId: string; onChange: (c: Clause) => void; onRemove: () => void }) {
  const { t } = useTranslation();
  const [field, setField] = useState(formatField(clause.field));
  const [value, setValue] = useState(clause.value);
  useEffect(() => setField(formatField(clause.field)), [clause.field]);
  useEffect(() => setValue(clause.value), [clause.value]);
  return (
    <div className="clause" role="group">
      <input
        aria-label={t("workspace.field")}
        list={listId}
        value={field}
        onChange={(e) => setField(e.target.value)}
        onBlur={() => {
          const path = parseFieldPath(field);
          if (path) onChange({ ...clause, field: path });
        }}
      />
      <select aria-label={t("workspace.operator")} value={clause.op} onChange={(e) => onChange({ ...clause, op: e.target.value as Operator })}>
        {OPERATORS.map((op) => (
          <option key={op} value={op}>
            {op}
          </option>
        ))}
      </select>
      <input
        aria-label={t("workspace.value")}
        value={value}
        onChange={(e) => setValue(e.target.value)}
        onBlur={() => onChange({ ...clause, value })}
        onKeyDown={(e) => {
          if (e.key === "Enter") onChange({ ...clause, value });
        }}
      />
      <button type="button" aria-label={t("workspace.removeClause")} onClick={onRemove}>
        ×
      </button>
    </div>
  );
}
