/** An entity's model registry: its collections, and a collection's linked model versions with their aliases. */
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { seg } from "../api/client";
import { registryCollection, registryCollections } from "../api/endpoints";
import type { RegistryLink } from "../api/types";
import { errorMessage } from "../i18n/errors";
import { formatTime } from "../lib/format";
import { useApi } from "../lib/useApi";
import { Aliases, artifactHref } from "./artifact/parts";

/** The linked version's address, from `e/p/name:v3` or the version record. */
function linkedVersion(link: RegistryLink): { entity: string; project: string; name: string; version: string } | null {
  if (typeof link.artifact !== "string") return link.artifact;
  const match = /^([^/]+)\/([^/]+)\/(.+):([^:]+)$/.exec(link.artifact);
  return match ? { entity: match[1] as string, project: match[2] as string, name: match[3] as string, version: match[4] as string } : null;
}

export function RegistryPage() {
  const { collection } = useParams();
  return collection ? <CollectionView collection={collection} /> : <CollectionsList />;
}

function CollectionsList() {
  const { t } = useTranslation();
  const { entity = "" } = useParams();
  const list = useApi(registryCollections(entity));
  return (
    <section className="page" data-testid="registry-page">
      <div className="page-head">
        <h1>
          {t("registry.title")} <span className="muted small">{entity}</span>
        </h1>
      </div>
      <p className="muted">{t("registry.help")}</p>
      {list.error && <p role="alert" className="error">{t("app.error", { message: errorMessage(list.error) })}</p>}
      {!list.data && !list.error && <p role="status">{t("app.loading")}</p>}
      {list.data?.length === 0 && <p className="muted">{t("registry.empty")}</p>}
      {list.data && list.data.length > 0 && (
        <table className="grid-table" data-testid="registry-collections">
          <thead>
            <tr>
              <th scope="col">{t("registry.collection")}</th>
              <th scope="col" className="num">{t("registry.versions")}</th>
              <th scope="col">{t("artifacts.aliases")}</th>
              <th scope="col">{t("artifacts.updated")}</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((c) => (
              <tr key={c.name} data-name={c.name}>
                <td>
                  <Link to={`/registry/${seg(entity)}/${seg(c.name)}`}>{c.name}</Link>
                </td>
                <td className="num">{c.versions ?? "–"}</td>
                <td>
                  <Aliases aliases={c.aliases ?? []} />
                </td>
                <td>{formatTime(c.updated_at ?? null)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function CollectionView({ collection }: { collection: string }) {
  const { t } = useTranslation();
  const { entity = "" } = useParams();
  const links = useApi(registryCollection(entity, collection));
  return (
    <section className="page" data-testid="registry-collection">
      <div className="page-head">
        <h1>
          {collection} <span className="muted small">{entity}</span>
        </h1>
        <Link to={`/registry/${seg(entity)}`}>{t("registry.title")}</Link>
      </div>
      {links.error && <p role="alert" className="error">{t("app.error", { message: errorMessage(links.error) })}</p>}
      {!links.data && !links.error && <p role="status">{t("app.loading")}</p>}
      {links.data?.length === 0 && <p className="muted">{t("registry.noLinks")}</p>}
      {links.data && links.data.length > 0 && (
        <table className="grid-table" data-testid="registry-links">
          <thead>
            <tr>
              <th scope="col">{t("artifacts.version")}</th>
              <th scope="col">{t("artifacts.aliases")}</th>
              <th scope="col">{t("registry.source")}</th>
              <th scope="col">{t("registry.linked")}</th>
            </tr>
          </thead>
          <tbody>
            {links.data.map((link, i) => {
              const source = linkedVersion(link);
              const text = typeof link.artifact === "string" ? link.artifact : `${link.artifact.entity}/${link.artifact.project}/${link.artifact.name}:${link.artifact.version}`;
              return (
                <tr key={link.version ?? text ?? i} data-aliases={link.aliases.join(" ")}>
                  <td>{link.version ?? "–"}</td>
                  <td>
                    <Aliases aliases={link.aliases} />
                  </td>
                  <td>{source ? <Link to={artifactHref(source.entity, source.project, source.name, source.version)}>{text}</Link> : <code>{text}</code>}</td>
                  <td>
                    {formatTime(link.linked_at ?? null)} {link.linked_by && <span className="muted small">{link.linked_by}</span>}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
