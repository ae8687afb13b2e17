/**
 * One artifact file, shown by what it is: an image, a logged table (MediaTable, through the same
 * parsing as run tables), JSON (indented), text (the first PREVIEW_BYTES), or only its download
 * link. A reference entry shows its URI: the server stores references, it never fetches them.
 */
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import type { FileUrl } from "../../api/endpoints";
import type { ManifestEntry } from "../../api/types";
import { MediaTable } from "../../components/MediaTable";
import { formatBytes } from "../../lib/format";
import { parseTableJson, type TableJson } from "../../lib/tables";

/** Text beyond this is cut (fetched with a Range request); JSON and tables beyond it are not previewed. */
const PREVIEW_BYTES = 2_000_000;
const IMAGE = /\.(png|jpe?g|gif|webp|bmp|svg)$/i;
const TEXT = /\.(txt|md|py|ya?ml|csv|tsv|log|cfg|ini|toml|sh|patch|diff|html?|xml|js|ts|c|cc|cpp|h|rs|go|java|rst|conf|env|gitignore)$|(^|\/)[^.]+$/i;

type Kind = "image" | "table" | "json" | "text" | "binary";

function kindOf(path: string): Kind {
  if (IMAGE.test(path)) return "image";
  if (/\.table\.json$/i.test(path)) return "table";
  if (/\.json$/i.test(path)) return "json";
  if (TEXT.test(path)) return "text";
  return "binary";
}

type Loaded = { text: string; cut: boolean } | { error: string } | null;

function useText(url: string | null, size: number, full: boolean): Loaded {
  const [loaded, setLoaded] = useState<Loaded>(null);
  useEffect(() => {
    setLoaded(null);
    if (!url || (full && size > PREVIEW_BYTES)) return;
    const controller = new AbortController();
    const headers: Record<string, string> = size > PREVIEW_BYTES ? { Range: `bytes=0-${PREVIEW_BYTES - 1}` } : {};
    fetch(url, { headers, signal: controller.signal, credentials: "same-origin" })
      .then(async (r) => (r.ok ? setLoaded({ text: await r.text(), cut: r.status === 206 }) : setLoaded({ error: `${r.status} ${r.statusText}` })))
      .catch((e: unknown) => controller.signal.aborted || setLoaded({ error: String(e) }));
    return () => controller.abort();
  }, [url, size, full]);
  return loaded;
}

interface Props {
  path: string;
  entry: ManifestEntry;
  url: string | null;
  /** Where the files a table's cells name are (api/endpoints.ts `artifactMediaUrl`); stable across renders. */
  mediaUrl: FileUrl;
}

export function FilePreview({ path, entry, url, mediaUrl }: Props) {
  const { t } = useTranslation();
  const kind = entry.ref ? "binary" : kindOf(path);
  const tooBig = (kind === "json" || kind === "table") && entry.size > PREVIEW_BYTES;
  return (
    <section className="file-preview" aria-labelledby="preview-h" data-testid="file-preview" data-kind={kind}>
      <div className="page-head">
        <h2 id="preview-h" className="preview-title">
          <code>{path}</code>
        </h2>
        <span className="muted small">{formatBytes(entry.size)}</span>
        {url && !entry.ref && (
          <a href={url} download={path.split("/").pop()} className="button">
            {t("artifacts.download")}
          </a>
        )}
      </div>
      <dl className="facts small">
        <div>
          <dt>{t("artifacts.digest")}</dt>
          <dd>
            <code>{entry.digest}</code>
          </dd>
        </div>
        {entry.sha256 && (
          <div>
            <dt>SHA-256</dt>
            <dd>
              <code className="wrap">{entry.sha256}</code>
            </dd>
          </div>
        )}
      </dl>
      {entry.ref && (
        <p>
          {t("artifacts.referenceTo")} <code className="wrap">{entry.ref}</code>
        </p>
      )}
      {kind === "image" && url && <img src={url} alt={path} className="preview-image" />}
      {(kind === "text" || kind === "json" || kind === "table") && !tooBig && <TextPreview kind={kind} url={url} size={entry.size} path={path} mediaUrl={mediaUrl} />}
      {tooBig && <p className="muted">{t("artifacts.tooBig")}</p>}
      {kind === "binary" && !entry.ref && <p className="muted">{t("artifacts.noPreview")}</p>}
    </section>
  );
}

function TextPreview({ kind, url, size, path, mediaUrl }: { kind: Kind; url: string | null; size: number; path: string; mediaUrl: FileUrl }) {
  const { t } = useTranslation();
  const loaded = useText(url, size, kind !== "text");
  if (!loaded) return <p role="status">{t("app.loading")}</p>;
  if ("error" in loaded) return <p role="alert" className="error">{t("app.error", { message: loaded.error })}</p>;
  if (kind === "table") {
    let table: TableJson | null = null;
    try {
      table = parseTableJson(loaded.text);
    } catch {
      table = null;
    }
    if (table && Array.isArray(table.columns) && Array.isArray(table.data))
      return <MediaTable table={table} fileUrl={mediaUrl} label={path} />;
  }
  let text = loaded.text;
  if (kind !== "text") {
    try {
      text = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      // Not JSON after all: shown as it is.
    }
  }
  return (
    <>
      <pre className="file-text" tabIndex={0} data-testid="file-text">
        {text}
      </pre>
      {loaded.cut && <p className="muted small">{t("artifacts.cut", { size: formatBytes(PREVIEW_BYTES) })}</p>}
    </>
  );
}
