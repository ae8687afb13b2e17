/**
 * Media besides images, as the SDK stores them (sdk/media/): a stub with `_type` and the `path`
 * of its file. Video and audio play in the browser's own players; HTML is shown in a sandboxed
 * frame; 3-D objects (three.js), molecules (3Dmol.js) and Plotly charts (plotly.js) load their
 * library in a chunk of its own, only when one is on screen.
 */
import { lazy, Suspense, useEffect, useRef, useState, type ReactNode } from "react";
import { useTranslation } from "react-i18next";
import { AudioPlayer } from "./AudioPlayer";
import { HtmlFrame } from "./HtmlFrame";
import { VideoPlayer } from "./VideoPlayer";

const PointCloud = lazy(() => import("./PointCloud"));
const MoleculeView = lazy(() => import("./MoleculeView"));
const PlotlyChart = lazy(() => import("./PlotlyChart"));

export type Stub = Record<string, unknown> & { _type?: string };

const RICH_TYPES = new Set(["video-file", "audio-file", "object3D-file", "molecule-file", "plotly-file", "html-file"]);

export function isRichMedia(value: unknown): value is Stub {
  return typeof value === "object" && value !== null && RICH_TYPES.has(String((value as Stub)._type)) && typeof (value as Stub).path === "string";
}

/** The extension the SDK gave the file: its format (`pts.json` for point clouds). */
export function fileFormat(path: string): string {
  const name = path.slice(path.lastIndexOf("/") + 1).toLowerCase();
  if (name.endsWith(".pts.json")) return "pts.json";
  return name.slice(name.lastIndexOf(".") + 1);
}

function Loading() {
  const { t } = useTranslation();
  return <p role="status">{t("app.loading")}</p>;
}

/** The viewer for one rich media stub, `url` being its file's download address. */
export function RichMedia({ stub, url, label }: { stub: Stub; url: string; label: string }) {
  const caption = typeof stub.caption === "string" ? stub.caption : undefined;
  const format = fileFormat(String(stub.path));
  let view: ReactNode;
  switch (stub._type) {
    case "video-file":
      view = <VideoPlayer url={url} label={caption ?? label} width={Number(stub.width) || undefined} height={Number(stub.height) || undefined} />;
      break;
    case "audio-file":
      view = <AudioPlayer url={url} label={caption ?? label} />;
      break;
    case "html-file":
      view = <HtmlFrame url={url} label={caption ?? label} />;
      break;
    case "object3D-file":
      view = <PointCloud url={url} format={format} label={caption ?? label} />;
      break;
    case "molecule-file":
      view = <MoleculeView url={url} format={format} label={caption ?? label} />;
      break;
    case "plotly-file":
      view = <PlotlyChart url={url} label={caption ?? label} />;
      break;
    default:
      return null;
  }
  return (
    <figure className="media-rich" data-media={stub._type}>
      <Suspense fallback={<Loading />}>{view}</Suspense>
      {caption !== undefined && <figcaption>{caption}</figcaption>}
    </figure>
  );
}

/**
 * A table cell: audio plays in place; video, 3-D, molecules, charts and HTML open in a dialog
 * (a row is too small for them), whose viewer exists only while it is open.
 */
export function RichMediaCell({ stub, url, label }: { stub: Stub; url: string; label: string }) {
  const { t } = useTranslation();
  const dialog = useRef<HTMLDialogElement>(null);
  const [open, setOpen] = useState(false);
  useEffect(() => {
    if (open) dialog.current?.showModal();
  }, [open]);
  if (stub._type === "audio-file") return <AudioPlayer url={url} label={label} compact />;
  return (
    <>
      <button type="button" className="media-open" onClick={() => setOpen(true)}>
        {t(`media.open.${String(stub._type)}`)}
      </button>
      {open && (
        <dialog ref={dialog} className="media-dialog" aria-label={label} onClose={() => setOpen(false)}>
          <form method="dialog">
            <button type="submit" className="media-close">
              {t("media.close")}
            </button>
          </form>
          <RichMedia stub={stub} url={url} label={label} />
        </dialog>
      )}
    </>
  );
}
