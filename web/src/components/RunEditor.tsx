/**
 * Edit a run's name, tags, notes, group and job type, stop it while it runs, or put it in the
 * project's trash. Stopping only asks: the run's client ends its script at its next check. Saving
 * sends only the fields that changed; a training still running replaces one again only by setting
 * it later (last writer wins, docs/collaboration.md).
 */
import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router";
import { seg } from "../api/client";
import { deleteRun, editRun, stopRun, type RunEdit } from "../api/endpoints";
import type { RunDetail, RunRef } from "../api/types";
import { errorMessage } from "../i18n/errors";

/** "a, b ,, c" → ["a", "b", "c"], first of each kept. */
export function parseTags(text: string): string[] {
  return [...new Set(text.split(",").map((t) => t.trim()).filter(Boolean))];
}

export function RunEditor({ run, runRef, onSaved }: { run: RunDetail; runRef: RunRef; onSaved: () => void }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const ids = useId();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [stopped, setStopped] = useState(false);
  const [form, setForm] = useState({ name: "", tags: "", notes: "", group: "", job_type: "" });

  const start = () => {
    setForm({ name: run.name ?? "", tags: run.tags.join(", "), notes: run.notes ?? "", group: run.group ?? "", job_type: run.job_type ?? "" });
    setError(null);
    setOpen(true);
  };
  const save = async (event: FormEvent) => {
    event.preventDefault();
    const text = (v: string) => (v.trim() ? v : null);
    const wanted: RunEdit = { name: text(form.name), tags: parseTags(form.tags), notes: text(form.notes), group: text(form.group), job_type: text(form.job_type) };
    const now: RunEdit = { name: run.name, tags: run.tags, notes: run.notes, group: run.group, job_type: run.job_type };
    const changed = Object.fromEntries(
      Object.entries(wanted).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(now[k as keyof RunEdit])),
    ) as RunEdit;
    setBusy(true);
    try {
      if (Object.keys(changed).length > 0) await editRun(runRef, changed);
      setOpen(false);
      onSaved();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    if (!window.confirm(t("manage.confirmDelete", { run: run.name ?? run.id }))) return;
    try {
      await deleteRun(runRef);
      void navigate(`/${seg(runRef.entity)}/${seg(runRef.project)}`);
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  const stop = async () => {
    if (!window.confirm(t("manage.confirmStop", { run: run.name ?? run.id }))) return;
    try {
      await stopRun(runRef);
      setStopped(true);
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  const live = run.state === "running" || run.state === "preempting";

  if (!open)
    return (
      <div className="run-actions">
        <button type="button" onClick={start}>
          {t("manage.edit")}
        </button>
        {live && !stopped && (
          <button type="button" className="danger" onClick={() => void stop()}>
            {t("manage.stop")}
          </button>
        )}
        {live && stopped && <p role="status">{t("manage.stopRequested")}</p>}
        <button type="button" className="danger" onClick={() => void remove()}>
          {t("manage.delete")}
        </button>
        {error && <p role="alert" className="error">{error}</p>}
      </div>
    );
  const field = (name: keyof typeof form, label: string) => (
    <>
      <label htmlFor={`${ids}-${name}`}>{label}</label>
      <input id={`${ids}-${name}`} value={form[name]} onChange={(e) => setForm({ ...form, [name]: e.target.value })} />
    </>
  );
  return (
    <form className="run-editor" onSubmit={(e) => void save(e)} aria-label={t("manage.edit")}>
      {field("name", t("manage.name"))}
      {field("tags", t("manage.tags"))}
      {field("group", t("run.group"))}
      {field("job_type", t("run.jobType"))}
      <label htmlFor={`${ids}-notes`}>{t("manage.notes")}</label>
      <textarea id={`${ids}-notes`} rows={6} value={form.notes} onChange={(e) => setForm({ ...form, notes: e.target.value })} />
      <div className="buttons">
        <button type="submit" disabled={busy}>
          {t("manage.save")}
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          {t("manage.cancel")}
        </button>
      </div>
      {error && <p role="alert" className="error">{error}</p>}
    </form>
  );
}
