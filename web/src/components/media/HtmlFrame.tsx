/**
 * Logged HTML in a frame. The server sends HTML only as a download (it must never run on the
 * app's origin), so the page is fetched as text and shown with `srcdoc` in a frame sandboxed
 * with no permissions at all: no scripts, no forms, a unique origin.
 */
import { useTranslation } from "react-i18next";
import { useFile, utf8 } from "./useFile";

export function HtmlFrame({ url, label }: { url: string; label: string }) {
  const { t } = useTranslation();
  const content = useFile(url);
  if (content === null) return <p className="error">{t("media.failed")}</p>;
  if (content === undefined) return <p role="status">{t("app.loading")}</p>;
  return <iframe className="media-html" title={label} sandbox="" srcDoc={utf8(content)} />;
}
