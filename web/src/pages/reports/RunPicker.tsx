/** A run set's picked runs: the runs already picked stay listed, and a search box asks the server for others (by name or id,
 * the runs route's filter language), so any run of the project can be picked however many it has. */
import { useEffect, useId, useState } from "react";
import { useTranslation } from "react-i18next";
import { runPage } from "../../api/endpoints";
import { useApi } from "../../lib/useApi";

/** How many matches one search shows; more are narrowed by typing more. */
const SHOWN = 50;
/** How long typing pauses before the server is asked. */
const TYPING_MS = 250;

/** The filter that finds runs whose name or id contains `text` (a JSON string is the language's string literal). */
export function runSearchFilter(text: string): string | undefined {
  const q = text.trim();
  return q ? `name contains ${JSON.stringify(q)} or id contains ${JSON.stringify(q)}` : undefined;
}

export function RunPicker({ entity, project, picked, labels, onChange }: { entity: string; project: string; picked: string[]; labels: Record<string, string>; onChange: (runs: string[]) => void }) {
  const { t } = useTranslation();
  const searchId = useId();
  const [text, setText] = useState("");
  const [query, setQuery] = useState("");
  useEffect(() => {
    const timer = setTimeout(() => setQuery(text), TYPING_MS);
    return () => clearTimeout(timer);
  }, [text]);
  const found = useApi(runPage(entity, project, { filter: runSearchFilter(query), limit: SHOWN }));
  // Names of runs seen in any answer, so a picked run keeps its name once the search moves on.
  const [names, setNames] = useState<Record<string, string>>({});
  const results = found.data?.runs;
  useEffect(() => {
    if (results) setNames((old) => ({ ...old, ...Object.fromEntries(results.map((r) => [r.id, r.name ?? r.id])) }));
  }, [results]);
  const label = (id: string) => names[id] ?? labels[id] ?? id;
  const others = (results ?? []).filter((r) => !picked.includes(r.id));
  const toggle = (id: string, on: boolean) => onChange(on ? [...picked, id] : picked.filter((x) => x !== id));
  const row = (id: string, on: boolean) => (
    <label key={id} className="check">
      <input type="checkbox" checked={on} onChange={(e) => toggle(id, e.target.checked)} /> {label(id)}
    </label>
  );
  return (
    <fieldset className="run-picks" data-testid="run-picker">
      <legend>{t("reports.pickRuns")}</legend>
      <span className="field">
        <label htmlFor={searchId}>{t("reports.searchRuns")}</label>
        <input id={searchId} type="search" value={text} onChange={(e) => setText(e.target.value)} />
      </span>
      {picked.map((id) => row(id, true))}
      {others.map((r) => row(r.id, false))}
      {found.error && <p role="alert" className="error">{found.error.message}</p>}
      {found.data && found.data.total > SHOWN && <p className="muted small">{t("reports.moreRuns", { shown: SHOWN, total: found.data.total })}</p>}
      {found.data && found.data.total === 0 && <p className="muted small">{t("reports.noRunsFound")}</p>}
    </fieldset>
  );
}
