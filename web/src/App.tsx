import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { Route, Routes, useLocation } from "react-router";
import { onUnauthorized, setCsrfToken } from "./api/client";
import { currentSession, logout } from "./api/endpoints";
import type { Me } from "./api/types";
import { Layout } from "./components/Layout";
import { ComparePage } from "./pages/Compare";
import { ProjectsPage } from "./pages/Projects";
import { RunPage } from "./pages/RunPage";
import { SettingsPage } from "./pages/Settings";
import { SignInPage } from "./pages/SignIn";
import { NotFoundPage, ProjectGate } from "./pages/NotFound";
import { WorkspacePage } from "./pages/Workspace";
import { SessionContext, type Session } from "./session";

// The sweep pages are a chunk of their own, the YAML editor another: the workspace does not load them.
const SweepsPage = lazy(() => import("./pages/Sweeps").then((m) => ({ default: m.SweepsPage })));
const SweepPage = lazy(() => import("./pages/SweepPage").then((m) => ({ default: m.SweepPage })));
const NewSweepPage = lazy(() => import("./pages/NewSweep"));
// The artifact pages and the model registry load on first visit; the lineage graph is a chunk inside that.
const ArtifactsPage = lazy(() => import("./pages/Artifacts").then((m) => ({ default: m.ArtifactsPage })));
const ArtifactPage = lazy(() => import("./pages/ArtifactPage").then((m) => ({ default: m.ArtifactPage })));
const ArtifactVersionPage = lazy(() => import("./pages/ArtifactVersion").then((m) => ({ default: m.ArtifactVersionPage })));
// Managing a project: its trash, and the audit trail (admins), on first visit.
const TrashPage = lazy(() => import("./pages/Trash").then((m) => ({ default: m.TrashPage })));
// A project's overview and its admins' settings.
const ProjectOverviewPage = lazy(() => import("./pages/ProjectOverview").then((m) => ({ default: m.ProjectOverviewPage })));
const ProjectSettingsPage = lazy(() => import("./pages/ProjectSettings").then((m) => ({ default: m.ProjectSettingsPage })));
const AuditPage = lazy(() => import("./pages/Audit").then((m) => ({ default: m.AuditPage })));
// The notification settings and a project's alert rules and team channels: visited now and then.
const NotificationSettingsPage = lazy(() => import("./pages/NotificationSettings").then((m) => ({ default: m.NotificationSettingsPage })));
const ProjectAlertsPage = lazy(() => import("./pages/ProjectAlerts").then((m) => ({ default: m.ProjectAlertsPage })));
// Reports: the list, a report, its editor and history; and a report's read-only link, which opens signed out.
const ReportListPage = lazy(() => import("./pages/reports/ReportList").then((m) => ({ default: m.ReportListPage })));
const ReportViewPage = lazy(() => import("./pages/reports/ReportView").then((m) => ({ default: m.ReportViewPage })));
const ReportEditorPage = lazy(() => import("./pages/reports/ReportEditor").then((m) => ({ default: m.ReportEditorPage })));
const ReportHistoryPage = lazy(() => import("./pages/reports/ReportHistory").then((m) => ({ default: m.ReportHistoryPage })));
const SharedReportPage = lazy(() => import("./pages/reports/SharedReport").then((m) => ({ default: m.SharedReportPage })));
const RegistryPage = lazy(() => import("./pages/Registry").then((m) => ({ default: m.RegistryPage })));

export function App() {
  const { t } = useTranslation();
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const shared = useLocation().pathname.startsWith("/share/");

  useEffect(() => {
    let live = true;
    currentSession()
      .then((m) => {
        if (!live) return;
        setCsrfToken(m.csrf_token ?? null);
        setMe(m);
      })
      .catch(() => live && setMe(null));
    const off = onUnauthorized(() => {
      setCsrfToken(null);
      setMe(null);
    });
    return () => {
      live = false;
      off();
    };
  }, []);

  const signedIn = useCallback((m: Me) => {
    setCsrfToken(m.csrf_token ?? null);
    setMe(m);
  }, []);

  const session = useMemo<Session | null>(
    () =>
      me
        ? {
            me,
            signOut: async () => {
              try {
                await logout();
              } finally {
                setCsrfToken(null);
                setMe(null);
              }
            },
          }
        : null,
    [me],
  );

  // A share link is read by anyone holding it: no session, no app chrome.
  if (shared)
    return (
      <Suspense fallback={<p role="status">{t("app.loading")}</p>}>
        <Routes>
          <Route path="/share/:token" element={<SharedReportPage />} />
        </Routes>
      </Suspense>
    );
  if (me === undefined) return <p className="loading" role="status">{t("app.loading")}</p>;
  if (me === null || !session) return <SignInPage onSignedIn={signedIn} />;
  return (
    <SessionContext.Provider value={session}>
      <Layout>
        <Suspense fallback={<p role="status" className="page">{t("app.loading")}</p>}>
          <Routes>
            <Route path="/" element={<ProjectsPage />} />
            <Route path="/settings" element={<SettingsPage />} />
            <Route path="/settings/notifications" element={<NotificationSettingsPage />} />
            <Route path="/:entity" element={<ProjectsPage />} />
            <Route element={<ProjectGate />}>
              <Route path="/:entity/:project" element={<WorkspacePage />} />
              <Route path="/:entity/:project/compare" element={<ComparePage />} />
              <Route path="/:entity/:project/runs/:runId" element={<RunPage />} />
              <Route path="/:entity/:project/alerts" element={<ProjectAlertsPage />} />
              <Route path="/:entity/:project/sweeps" element={<SweepsPage />} />
              <Route path="/:entity/:project/sweeps/new" element={<NewSweepPage />} />
              <Route path="/:entity/:project/sweeps/:sweepId" element={<SweepPage />} />
              <Route path="/:entity/:project/artifacts" element={<ArtifactsPage />} />
              <Route path="/:entity/:project/artifacts/:name" element={<ArtifactPage />} />
              <Route path="/:entity/:project/artifacts/:name/:version" element={<ArtifactVersionPage />} />
              <Route path="/:entity/:project/trash" element={<TrashPage />} />
              <Route path="/:entity/:project/overview" element={<ProjectOverviewPage />} />
              <Route path="/:entity/:project/reports" element={<ReportListPage />} />
              <Route path="/:entity/:project/reports/:reportId" element={<ReportViewPage />} />
              <Route path="/:entity/:project/reports/:reportId/edit" element={<ReportEditorPage />} />
              <Route path="/:entity/:project/reports/:reportId/history" element={<ReportHistoryPage />} />
              <Route path="/:entity/:project/settings" element={<ProjectSettingsPage />} />
            </Route>
            <Route path="/audit" element={<AuditPage />} />
            <Route path="/audit/:entity" element={<AuditPage />} />
            <Route path="/registry/:entity" element={<RegistryPage />} />
            <Route path="/registry/:entity/:collection" element={<RegistryPage />} />
            <Route path="*" element={<NotFoundPage />} />
          </Routes>
        </Suspense>
      </Layout>
    </SessionContext.Provider>
  );
}
