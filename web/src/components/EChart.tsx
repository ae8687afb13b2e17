/** An ECharts instance in a div, resized with it; the option is replaced as a whole on change, and the
 * chart is re-created in the new colours when the page's theme changes. Its export menu saves it as
 * PNG (the canvas) or SVG (the same option drawn by ECharts' SVG renderer, loaded on demand). */
import { useEffect, useRef } from "react";
import { useTranslation } from "react-i18next";
import { fileStem } from "../lib/csv";
import { dataUrlBlob, download } from "../lib/download";
import { echarts } from "../lib/echarts";
import { echartsTheme } from "../lib/echartsTheme";
import { chartColors, useTheme } from "../lib/theme";
import { ExportMenu, type ExportItem } from "./ExportMenu";

type Option = Parameters<ReturnType<typeof echarts.init>["setOption"]>[0];

export function EChart({ option, height, label, onClick }: { option: Option; height: number; label: string; onClick?: (params: { dataIndex: number; seriesIndex?: number }) => void }) {
  const ref = useRef<HTMLDivElement>(null);
  const chart = useRef<ReturnType<typeof echarts.init> | null>(null);
  const click = useRef(onClick);
  click.current = onClick;
  const theme = useTheme();
  const { t } = useTranslation();
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const instance = echarts.init(el, echartsTheme(theme), { renderer: "canvas" });
    chart.current = instance;
    instance.on("click", (p) => click.current?.(p as { dataIndex: number }));
    const observer = new ResizeObserver(() => instance.resize());
    observer.observe(el);
    return () => {
      observer.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, [theme]);
  useEffect(() => {
    chart.current?.setOption(option, true);
  }, [option, theme]);
  const stem = fileStem(label);
  const exports: ExportItem[] = [
    {
      id: "png",
      label: t("exporting.png"),
      run: () => {
        const url = chart.current?.getDataURL({ type: "png", pixelRatio: 2, backgroundColor: chartColors().bg });
        if (url) download(`${stem}.png`, dataUrlBlob(url));
      },
    },
    {
      id: "svg",
      label: t("exporting.svg"),
      run: async () => {
        const { optionSvg } = await import("../lib/chartSvg");
        const el = ref.current;
        download(`${stem}.svg`, optionSvg(option, theme, el?.clientWidth || 640, height), "image/svg+xml");
      },
    },
  ];
  return (
    <div className="echart-wrap">
      <div className="echart-tools">
        <ExportMenu name={label} items={exports} />
      </div>
      <div ref={ref} style={{ height, width: "100%" }} role="img" aria-label={label} className="echart" />
    </div>
  );
}
