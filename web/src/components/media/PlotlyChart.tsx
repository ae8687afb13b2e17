/** A logged Plotly figure, drawn interactively by plotly.js (the figure's own JSON, as stored). */
import Plotly from "plotly.js-dist-min";
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { parseTableJson } from "../../lib/tables";
import { useFile, utf8 } from "./useFile";

interface Figure {
  data?: Plotly.Data[];
  layout?: Partial<Plotly.Layout>;
}

export default function PlotlyChart({ url, label }: { url: string; label: string }) {
  const { t } = useTranslation();
  const content = useFile(url);
  const host = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    const el = host.current;
    if (!el || !content) return;
    let figure: Figure;
    try {
      figure = parseTableJson(utf8(content)) as unknown as Figure; // wandb's files may hold NaN tokens
    } catch {
      setFailed(true);
      return;
    }
    // The figure's template often fixes a size; the panel decides it instead.
    const layout = { ...figure.layout, autosize: true, width: undefined, height: figure.layout?.height ?? 400 };
    Plotly.newPlot(el, figure.data ?? [], layout, { responsive: true, displaylogo: false }).catch(() => setFailed(true));
    return () => Plotly.purge(el);
  }, [content]);

  if (content === null || failed) return <p className="error">{t("media.failed")}</p>;
  return <div ref={host} className="media-plotly" role="figure" aria-label={label} data-testid="plotly" />;
}
