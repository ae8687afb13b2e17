/**
 * A project's settings that belong to its entity's admins: rename it (the app follows it to its
 * new address), choose who reads it, and put it in the entity's trash. The description and the
 * pinned runs are a member's, on the overview. The server checks every change again.
 */
import { useId, useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useParams } from "react-router";
import { seg } from "../api/client";
import { deleteProject, editProject, projectDetail } from "../api/endpoints";
import { errorMessage } from "../i18n/errors";
import { canAdmin } from "../lib/access";
import { useApi } from "../lib/useApi";
import { useSession } from "../session";

type Visibility = "members" | "signed_in";

export function ProjectSettingsPage() {
  const { t } = useTranslation();
  const { me } = useSession();
  const { entity = "", project = "" } = useParams();
  const detail = useApi(projectDetail(entity, project));
  const admin = canAdmin(me, entity);
  return (
    <section className="page project-settings" data-testid="project-settings">
      <div className="page-head">
        <h1>{t("project.settingsOf", { project })}</h1>
        <Link to={`/${seg(entity)}/${seg(project)}/overview`}>{t("project.overview")}</Link>
      </div>
      {detail.error && <p role="alert" className="error">{t("app.error", { message: errorMessage(detail.error) })}</p>}
      {!admin && <p className="muted">{t("project.adminsOnly", { entity })}</p>}
      {admin && detail.data && (
        <>
          <Rename entity={entity} project={project} />
          <VisibilityForm entity={entity} project={project} current={detail.data.visibility as Visibility} onSaved={detail.reload} />
          <Delete entity={entity} project={project} />
        </>
      )}
    </section>
  );
}

function Rename({ entity, project }: { entity: string; project: string }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const id = useId();
  const [name, setName] = useState(project);
  const [error, setError] = useState<string | null>(null);
  const save = async (event: FormEvent) => {
    event.preventDefault();
    const wanted = name.trim();
    if (!wanted || wanted === project) return;
    try {
      await editProject(entity, project, { name: wanted });
      void navigate(`/${seg(entity)}/${seg(wanted)}/settings`, { replace: true });
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <section aria-labelledby={`${id}-h`} className="settings-part">
      <h2 id={`${id}-h`}>{t("project.rename")}</h2>
      <p className="muted" id={`${id}-help`}>
        {t("project.renameHelp")}
      </p>
      <form className="inline-form" onSubmit={(e) => void save(e)}>
        <label htmlFor={id}>{t("project.newName")}</label>
        <input id={id} value={name} required maxLength={128} aria-describedby={`${id}-help`} onChange={(e) => setName(e.target.value)} />
        <button type="submit" disabled={!name.trim() || name.trim() === project}>
          {t("project.rename")}
        </button>
      </form>
      {error && <p role="alert" className="error">{error}</p>}
    </section>
  );
}

function VisibilityForm({ entity, project, current, onSaved }: { entity: string; project: string; current: Visibility; onSaved: () => void }) {
  const { t } = useTranslation();
  const id = useId();
  const [chosen, setChosen] = useState<Visibility>(current);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const save = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setSaved(false);
    try {
      await editProject(entity, project, { visibility: chosen });
      setSaved(true);
      onSaved();
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  const option = (value: Visibility, label: string, help: string) => (
    <div className="radio-option">
      <input
        type="radio"
        id={`${id}-${value}`}
        name={`${id}-visibility`}
        value={value}
        checked={chosen === value}
        aria-describedby={`${id}-${value}-help`}
        onChange={() => {
          setChosen(value);
          setSaved(false);
        }}
      />
      <label htmlFor={`${id}-${value}`}>{label}</label>
      <p className="muted" id={`${id}-${value}-help`}>
        {help}
      </p>
    </div>
  );
  return (
    <section aria-labelledby={`${id}-h`} className="settings-part">
      <h2 id={`${id}-h`}>{t("project.visibility")}</h2>
      <form onSubmit={(e) => void save(e)}>
        <fieldset>
          <legend>{t("project.whoReads")}</legend>
          {option("members", t("project.visibilityMembers", { entity }), t("project.visibilityMembersHelp", { entity }))}
          {option("signed_in", t("project.visibilitySignedIn"), t("project.visibilitySignedInHelp", { entity }))}
        </fieldset>
        <button type="submit" disabled={chosen === current}>
          {t("project.saveVisibility")}
        </button>
        <span role="status" className="muted">
          {saved ? t("project.saved") : ""}
        </span>
      </form>
      {error && <p role="alert" className="error">{error}</p>}
    </section>
  );
}

function Delete({ entity, project }: { entity: string; project: string }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const id = useId();
  const [error, setError] = useState<string | null>(null);
  const remove = async () => {
    if (!window.confirm(t("project.confirmDelete", { project, entity }))) return;
    try {
      await deleteProject(entity, project);
      void navigate(`/${seg(entity)}`);
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  return (
    <section aria-labelledby={`${id}-h`} className="settings-part">
      <h2 id={`${id}-h`}>{t("project.delete")}</h2>
      <p className="muted" id={`${id}-help`}>
        {t("project.deleteHelp", { entity })}
      </p>
      <button type="button" className="danger" aria-describedby={`${id}-help`} onClick={() => void remove()}>
        {t("project.delete")}
      </button>
      {error && <p role="alert" className="error">{error}</p>}
    </section>
  );
}
