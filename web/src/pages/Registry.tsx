/** An entity's model registry: its collections, and a collection's linked model versions with their aliases. */
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";
import { seg } from "../api/client";
import { registryCollection, registryCollections } from "../api/endpoints";
import { errorMessage } from "../i18n/errors";
import { formatBytes, formatTime } from "../lib/format";
import { useApi } from "../lib/useApi";
import { Aliases, artifactHref, CreatorRun } from "./artifact/parts";

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
              <th scope="col">{t("artifacts.created")}</th>
              <th scope="col">{t("artifacts.updated")}</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((c) => (
              <tr key={c.name} data-name={c.name}>
                <td>
                  <Link to={`/registry/${seg(entity)}/${seg(c.name)}`}>{c.name}</Link>
                </td>
                <td className="num">{c.versions}</td>
                <td>{formatTime(c.created_at)}</td>
                <td>{formatTime(c.updated_at)}</td>
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
              <th scope="col">{t("registry.aliases")}</th>
              <th scope="col">{t("registry.source")}</th>
              <th scope="col">{t("artifacts.type")}</th>
              <th scope="col">{t("artifacts.aliases")}</th>
              <th scope="col" className="num">{t("artifacts.size")}</th>
              <th scope="col">{t("artifacts.creatorRun")}</th>
              <th scope="col">{t("registry.linked")}</th>
            </tr>
          </thead>
          <tbody>
            {links.data.map((v) => (
              <tr key={v.id} data-version={`${v.name}:${v.version}`} data-aliases={v.registry_aliases.join(" ")}>
                <td>
                  <Aliases aliases={v.registry_aliases} />
                </td>
                <td>
                  <Link to={artifactHref(v.entity, v.project, v.name, v.version)}>
                    {v.entity}/{v.project}/{v.name}:{v.version}
                  </Link>
                </td>
                <td>{v.type}</td>
                <td>
                  <Aliases aliases={v.aliases} />
                </td>
                <td className="num">{formatBytes(v.size)}</td>
                <td>
                  <CreatorRun entity={v.entity} project={v.project} run={v.run} />
                </td>
                <td>{formatTime(v.linked_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
