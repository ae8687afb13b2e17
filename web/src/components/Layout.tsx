import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { Link, NavLink, useLocation } from "react-router";
import { useSession } from "../session";
import { LanguageSelect } from "./LanguageSelect";
import { NotificationBell } from "./notifications/NotificationBell";
import { ThemeSelect } from "./ThemeSelect";

export function Layout({ children }: { children: ReactNode }) {
  const { t } = useTranslation();
  const { me, signOut } = useSession();
  const location = useLocation();
  const parts = location.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  const crumbs: { label: string; to: string }[] = [];
  /** The path of the first n parts. */
  const upTo = (n: number) => `/${parts.slice(0, n).map(encodeURIComponent).join("/")}`;
  const top = parts[0] !== "settings" && parts[0] !== "registry" && parts[0] !== "audit";
  if (parts[0] === "registry") {
    // Model registry / entity / collection.
    parts.slice(1, 3).forEach((part, i) => crumbs.push({ label: i === 0 ? `${t("registry.title")} · ${part}` : part, to: upTo(i + 2) }));
  }
  if (parts.length >= 1 && top) crumbs.push({ label: parts[0] as string, to: `/${encodeURIComponent(parts[0] as string)}` });
  if (parts.length >= 2 && top)
    crumbs.push({ label: parts[1] as string, to: `/${encodeURIComponent(parts[0] as string)}/${encodeURIComponent(parts[1] as string)}` });
  if (parts.length >= 4 && parts[2] === "runs") crumbs.push({ label: parts[3] as string, to: location.pathname });
  if (parts.length >= 3 && top && parts[2] === "artifacts") {
    // Artifacts / name / version.
    crumbs.push({ label: t("artifacts.title"), to: upTo(3) });
    parts.slice(3, 5).forEach((part, i) => crumbs.push({ label: part, to: upTo(i + 4) }));
  }
  if (parts.length >= 3 && top && parts[2] === "trash") crumbs.push({ label: t("manage.trash"), to: upTo(3) });
  if (parts.length === 3 && top && parts[2] === "overview") crumbs.push({ label: t("project.overview"), to: upTo(3) });
  if (parts.length === 3 && top && parts[2] === "settings") crumbs.push({ label: t("project.settings"), to: upTo(3) });
  if (parts.length === 3 && top && parts[2] === "alerts") crumbs.push({ label: t("notifications.alerts"), to: upTo(3) });
  if (parts[0] === "settings" && parts[1] === "notifications") {
    crumbs.push({ label: t("settings.title"), to: "/settings" }, { label: t("notifications.title"), to: upTo(2) });
  }
  if (parts.length >= 3 && parts[2] === "sweeps") {
    const sweeps = `/${parts.slice(0, 3).map(encodeURIComponent).join("/")}`;
    crumbs.push({ label: t("sweeps.title"), to: sweeps });
    if (parts.length >= 4) crumbs.push({ label: parts[3] === "new" ? t("sweeps.new") : (parts[3] as string), to: location.pathname });
  }
  return (
    <>
      <a className="skip-link" href="#main">
        {t("app.skip")}
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          wakelog
        </Link>
        <nav aria-label={t("nav.breadcrumb")} className="crumbs">
          <ol>
            {crumbs.map((c, i) => (
              <li key={c.to}>
                <Link to={c.to} aria-current={i === crumbs.length - 1 ? "page" : undefined}>
                  {c.label}
                </Link>
              </li>
            ))}
          </ol>
        </nav>
        <nav className="mainnav" aria-label={t("nav.main")}>
          <NavLink to="/" end>
            {t("nav.projects")}
          </NavLink>
          {me.is_admin && <NavLink to="/audit">{t("nav.audit")}</NavLink>}
          <NavLink to="/settings">{t("nav.settings")}</NavLink>
        </nav>
        <NotificationBell />
        <LanguageSelect />
        <ThemeSelect />
        <span className="who" title={t("nav.signedInAs", { name: me.username })}>
          {me.username}
        </span>
        <button type="button" className="link-button" onClick={() => void signOut()}>
          {t("nav.signOut")}
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
