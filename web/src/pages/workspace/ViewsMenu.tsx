/**
 * The workspace header's "Views" menu: the project's saved views (open one; the default marked), the
 * open view's actions (save changes, rename, make default, delete) and saving what the workspace
 * shows as a new view. A disclosure, not a menu (it holds forms): Escape closes it and focus goes back.
 */
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { useTranslation } from "react-i18next";
import type { SavedViews } from "./useSavedViews";

export function ViewsMenu({ views, canWrite }: { views: SavedViews; canWrite: boolean }) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState("");
  const [newName, setNewName] = useState("");
  const button = useRef<HTMLButtonElement>(null);
  const panel = useRef<HTMLDivElement>(null);
  const panelId = useId();
  const current = views.views.find((v) => v.id === views.current) ?? null;

  useEffect(() => {
    if (!open) return;
    const el = panel.current;
    // Opens leftwards under the button; where that would leave a narrow page, rightwards.
    if (el && el.getBoundingClientRect().left < 0) el.classList.add("from-left");
    const outside = (event: PointerEvent) => {
      const target = event.target as Node;
      if (!panel.current?.contains(target) && !button.current?.contains(target)) setOpen(false);
    };
    document.addEventListener("pointerdown", outside);
    return () => document.removeEventListener("pointerdown", outside);
  }, [open]);
  useEffect(() => setNewName(current?.name ?? ""), [current?.name]);

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    if (event.key !== "Escape") return;
    event.preventDefault();
    event.stopPropagation();
    setOpen(false);
    button.current?.focus();
  }
  const quietly = (done: Promise<void>) => void done.catch(() => undefined); // the hook shows the error
  function saveNew(event: FormEvent) {
    event.preventDefault();
    if (name.trim()) quietly(views.save(name.trim()).then(() => setName("")));
  }
  function rename(event: FormEvent) {
    event.preventDefault();
    if (current && newName.trim() && newName.trim() !== current.name) quietly(views.rename(current.id, newName.trim()));
  }

  return (
    <span className="views-menu">
      <button type="button" ref={button} aria-expanded={open} aria-controls={open ? panelId : undefined} onClick={() => setOpen((o) => !o)} data-testid="views-button">
        {current ? t("views.buttonOpen", { name: current.name }) : t("views.button")}
      </button>
      {open && (
        <div className="menu-popover views-panel" id={panelId} ref={panel} role="group" aria-label={t("views.title")} onKeyDown={onKeyDown}>
          {views.views.length === 0 ? (
            <p className="muted small">{t("views.none")}</p>
          ) : (
            <ul className="views-list">
              {views.views.map((v) => (
                <li key={v.id}>
                  <button type="button" aria-current={v.id === views.current ? "true" : undefined} onClick={() => views.open(v.id)}>
                    {v.name}
                  </button>
                  {v.is_default && <span className="badge">{t("views.default")}</span>}
                </li>
              ))}
            </ul>
          )}
          {current && canWrite && (
            <div className="views-current">
              <button type="button" onClick={() => quietly(views.update(current.id))}>
                {t("views.update")}
              </button>
              <form onSubmit={rename} className="views-form">
                <label>
                  {t("views.rename")}
                  <input value={newName} onChange={(e) => setNewName(e.target.value)} maxLength={100} />
                </label>
                <button type="submit">{t("views.renameSubmit")}</button>
              </form>
              <button type="button" onClick={() => quietly(views.setDefault(current.id, !current.is_default))}>
                {current.is_default ? t("views.clearDefault") : t("views.makeDefault")}
              </button>
              <button type="button" className="danger" onClick={() => quietly(views.remove(current.id))}>
                {t("views.delete")}
              </button>
            </div>
          )}
          {canWrite && (
            <form onSubmit={saveNew} className="views-form">
              <label>
                {t("views.name")}
                <input value={name} onChange={(e) => setName(e.target.value)} maxLength={100} data-testid="view-name" />
              </label>
              <button type="submit" disabled={!name.trim()}>
                {t("views.save")}
              </button>
            </form>
          )}
          {views.error && (
            <p role="alert" className="error">
              {views.error}
            </p>
          )}
        </div>
      )}
    </span>
  );
}
