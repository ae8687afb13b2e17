/** One artifact version: overview (facts, aliases, metadata), files with preview, a diff against another version, lineage. */
import { lazy, Suspense, useId, useMemo } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { artifactFileUrl, artifactManifest, artifactMediaUrl, artifactVersion, artifactVersions } from "../api/endpoints";
import type { ArtifactVersion, ManifestEntry } from "../api/types";
import { FactList, type Fact } from "../components/FactList";
import { KeyValueTable } from "../components/KeyValueTable";
import { TabList } from "../components/TabList";
import { errorMessage } from "../i18n/errors";
import { formatBytes, formatTime } from "../lib/format";
import { useApi } from "../lib/useApi";
import { useUrlState } from "../lib/urlState";
import { FilePreview } from "./artifact/FilePreview";
import { FileTree } from "./artifact/FileTree";
import { ManifestDiff } from "./artifact/ManifestDiff";
import { Aliases, artifactHref, CreatorRun } from "./artifact/parts";

// ECharts' graph series is a chunk of its own: only the lineage tab loads it.
const LineageGraph = lazy(() => import("./artifact/LineageGraph"));
const TABS = ["overview", "files", "diff", "lineage"] as const;
type Tab = (typeof TABS)[number];

export function ArtifactVersionPage() {
  const { t } = useTranslation();
  const { entity = "", project = "", name = "", version = "" } = useParams();
  const [params, setParams] = useUrlState();
  const tab = (TABS as readonly string[]).includes(params.get("tab") ?? "") ? (params.get("tab") as Tab) : "overview";
  const detail = useApi(artifactVersion(entity, project, name, version));
  // The version an alias names now: files and diffs are read from it, not from the moving alias.
  const resolved = detail.data?.version ?? null;
  const manifest = useApi(resolved ? artifactManifest(entity, project, name, resolved) : null);
  const versions = useApi(artifactVersions(entity, project, name));
  const tabIds = useId();
  const art = detail.data;
  if (detail.error) return <p role="alert" className="error page">{t("app.error", { message: errorMessage(detail.error) })}</p>;
  if (!art) return <p role="status" className="page">{t("app.loading")}</p>;
  return (
    <section className="page" data-testid="artifact-version-page">
      <div className="page-head">
        <h1>
          {art.name}:{art.version} <span className="badge">{art.type}</span>
        </h1>
        <Aliases aliases={art.aliases} />
        <Link to={artifactHref(entity, project, name)}>{t("artifacts.allVersions")}</Link>
      </div>
      <TabList
        tabs={TABS.map((id) => ({ id, label: t(`artifacts.tabs.${id}`) }))}
        selected={tab}
        onSelect={(id) => setParams({ tab: id === "overview" ? null : id }, true)}
        label={`${art.name}:${art.version}`}
        idPrefix={tabIds}
        panelId={`${tabIds}-panel`}
      />
      <div role="tabpanel" tabIndex={0} id={`${tabIds}-panel`} aria-labelledby={`${tabIds}-${tab}`} className="tab-body">
        {tab === "overview" && <Overview art={art} />}
        {tab === "files" &&
          (manifest.error ? (
            <p role="alert" className="error">{t("app.error", { message: errorMessage(manifest.error) })}</p>
          ) : manifest.data ? (
            <Files art={art} entries={manifest.data.entries} selected={params.get("file")} onSelect={(file) => setParams({ file })} />
          ) : (
            <p role="status">{t("app.loading")}</p>
          ))}
        {tab === "diff" && (
          <ManifestDiff version={art} manifest={manifest.data} versions={versions.data ?? []} against={params.get("against")} onAgainst={(against) => setParams({ against })} />
        )}
        {tab === "lineage" && (
          <Suspense fallback={<p role="status">{t("app.loading")}</p>}>
            <LineageGraph version={art} />
          </Suspense>
        )}
      </div>
    </section>
  );
}

function Overview({ art }: { art: ArtifactVersion }) {
  const { t } = useTranslation();
  const facts: Fact[] = [
    [t("artifacts.type"), art.type],
    [t("artifacts.version"), art.version],
    [t("artifacts.aliases"), <Aliases key="a" aliases={art.aliases} />],
    [t("artifacts.size"), formatBytes(art.size)],
    [t("artifacts.files"), String(art.file_count)],
    [t("artifacts.createdBy"), art.created_by ?? "–"],
    [t("artifacts.creatorRun"), <CreatorRun key="r" entity={art.entity} project={art.project} run={art.run} />],
    [t("artifacts.created"), formatTime(art.created_at)],
    [t("artifacts.digest"), <code key="d">{art.digest}</code>],
    [t("artifacts.tags"), art.tags?.length ? art.tags.join(", ") : "–"],
    [t("artifacts.keptUntil"), art.ttl == null ? t("artifacts.untilDeleted") : formatTime(art.created_at + art.ttl)],
  ];
  return (
    <div className="overview">
      {art.description && <p data-testid="artifact-description">{art.description}</p>}
      <FactList facts={facts} className="facts" />
      <section aria-labelledby="art-meta-h">
        <h2 id="art-meta-h">{t("artifacts.metadata")}</h2>
        <KeyValueTable value={art.metadata ?? {}} testId="artifact-metadata" />
      </section>
    </div>
  );
}

function Files({ art, entries, selected, onSelect }: { art: ArtifactVersion; entries: Record<string, ManifestEntry>; selected: string | null; onSelect: (path: string) => void }) {
  const { t } = useTranslation();
  const fileUrl = useMemo(() => (path: string) => artifactFileUrl(art.entity, art.project, art.name, art.version, path), [art]);
  const mediaUrl = useMemo(() => artifactMediaUrl(art, entries), [art, entries]);
  const entry = selected && Object.hasOwn(entries, selected) ? entries[selected] : undefined;
  if (Object.keys(entries).length === 0) return <p className="muted">{t("artifacts.noFiles")}</p>;
  return (
    <div className="artifact-files">
      <FileTree entries={entries} selected={selected} onSelect={onSelect} fileUrl={fileUrl} />
      {selected && entry ? (
        <FilePreview key={selected} path={selected} entry={entry} url={fileUrl(selected)} mediaUrl={mediaUrl} />
      ) : (
        <p className="muted">{t("artifacts.pickFile")}</p>
      )}
    </div>
  );
}

