/**
 * The page for an address that leads nowhere, and the gate of every project page: a project that
 * does not exist, is in the trash, or that you may not read shows this page instead of a workspace
 * whose every part fails (the server answers 404 for all three, telling nothing of which).
 */
import { useTranslation } from "react-i18next";
import { Link, Outlet, useParams } from "react-router";
import { ApiError } from "../api/client";
import { projectDetail } from "../api/endpoints";
import { useApi } from "../lib/useApi";

export function NotFoundPage({ project }: { project?: string }) {
  const { t } = useTranslation();
  return (
    <section className="page not-found" data-testid="not-found">
      <h1>{project ? t("notFound.projectTitle") : t("notFound.title")}</h1>
      <p>{project ? t("notFound.project", { project }) : t("notFound.page")}</p>
      <p>
        <Link to="/">{t("notFound.home")}</Link>
      </p>
    </section>
  );
}

/** The project's pages, or the not-found page once the server says the project is not there for you. */
export function ProjectGate() {
  const { entity = "", project = "" } = useParams();
  // The pages load in parallel with this check, so a readable project costs no extra wait.
  const detail = useApi(projectDetail(entity, project));
  const missing = detail.error instanceof ApiError && (detail.error.status === 404 || detail.error.status === 403);
  return missing ? <NotFoundPage project={`${entity}/${project}`} /> : <Outlet />;
}
