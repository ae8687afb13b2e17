/** The artifacts a run logged and the ones it used, in its overview. */
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { ApiError } from "../../api/client";
import { runArtifacts } from "../../api/endpoints";
import type { ArtifactVersion, RunRef } from "../../api/types";
import { errorMessage } from "../../i18n/errors";
import { formatBytes } from "../../lib/format";
import { useApi } from "../../lib/useApi";
import { Aliases, artifactHref } from "./parts";

export function RunArtifacts({ runRef }: { runRef: RunRef }) {
  const { t } = useTranslation();
  const answer = useApi(runArtifacts(runRef));
  // A server without artifacts answers 404: nothing to show then.
  if (answer.error instanceof ApiError && answer.error.status === 404) return null;
  return (
    <section aria-labelledby="run-artifacts-h" data-testid="run-artifacts">
      <h2 id="run-artifacts-h">{t("artifacts.title")}</h2>
      {answer.error && <p role="alert" className="error">{errorMessage(answer.error)}</p>}
      {!answer.data && !answer.error && <p role="status">{t("app.loading")}</p>}
      {answer.data && (
        <div className="kv-columns">
          <ArtifactList title={t("artifacts.logged")} list={answer.data.logged} testId="run-logged" />
          <ArtifactList title={t("artifacts.used")} list={answer.data.used} testId="run-used" />
        </div>
      )}
    </section>
  );
}

function ArtifactList({ title, list, testId }: { title: string; list: ArtifactVersion[]; testId: string }) {
  const { t } = useTranslation();
  return (
    <div data-testid={testId}>
      <h3>{title}</h3>
      {list.length === 0 ? (
        <p className="muted">{t("artifacts.none")}</p>
      ) : (
        <table className="grid-table">
          <thead>
            <tr>
              <th scope="col">{t("artifacts.name")}</th>
              <th scope="col">{t("artifacts.type")}</th>
              <th scope="col">{t("artifacts.aliases")}</th>
              <th scope="col" className="num">{t("artifacts.size")}</th>
            </tr>
          </thead>
          <tbody>
            {list.map((a) => (
              <tr key={`${a.entity}/${a.project}/${a.name}:${a.version}`}>
                <td>
                  <Link to={artifactHref(a.entity, a.project, a.name, a.version)}>
                    {a.name}:{a.version}
                  </Link>
                </td>
                <td>{a.type}</td>
                <td>
                  <Aliases aliases={a.aliases} />
                </td>
                <td className="num">{formatBytes(a.size)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
