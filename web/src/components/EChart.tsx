/** An ECharts instance in a div, resized with it; the option is replaced as a whole on change. */
import { useEffect, useRef } from "react";
import { echarts } from "../lib/echarts";

type Option = Parameters<ReturnType<typeof echarts.init>["setOption"]>[0];

export function EChart({ option, height, label, onClick }: { option: Option; height: number; label: string; onClick?: (params: { dataIndex: number; seriesIndex?: number }) => void }) {
  const ref = useRef<HTMLDivElement>(null);
  const chart = useRef<ReturnType<typeof echarts.init> | null>(null);
  const click = useRef(onClick);
  click.current = onClick;
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const instance = echarts.init(el, undefined, { renderer: "canvas" });
    chart.current = instance;
    instance.on("click", (p) => click.current?.(p as { dataIndex: number }));
    const observer = new ResizeObserver(() => instance.resize());
    observer.observe(el);
    return () => {
      observer.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, []);
  useEffect(() => {
    chart.current?.setOption(option, true);
  }, [option]);
  return <div ref={ref} style={{ height, width: "100%" }} role="img" aria-label={label} className="echart" />;
}
