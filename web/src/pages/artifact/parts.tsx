/** Small pieces the artifact pages share: alias badges, links to a version and to its creator run. */
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { seg } from "../../api/client";

/** `/e/p/artifacts/name[/version]` in the app. */
export function artifactHref(entity: string, project: string, name: string, version?: string): string {
  const base = `/${seg(entity)}/${seg(project)}/artifacts/${seg(name)}`;
  return version ? `${base}/${seg(version)}` : base;
}

export function Aliases({ aliases }: { aliases: string[] }) {
  if (aliases.length === 0) return <span className="muted">–</span>;
  return (
    <span className="aliases" data-testid="aliases">
      {aliases.map((a) => (
        <span key={a} className={`alias alias-${a === "latest" || a === "production" || a === "staging" ? a : "user"}`}>
          {a}
        </span>
      ))}
    </span>
  );
}

export function CreatorRun({ entity, project, run }: { entity: string; project: string; run: string | null }) {
  const { t } = useTranslation();
  if (!run) return <span className="muted">{t("artifacts.noRun")}</span>;
  return (
    <Link to={`/${seg(entity)}/${seg(project)}/runs/${seg(run)}`}>
      <code>{run}</code>
    </Link>
  );
}
