/** ECharts with its graph series added: only the lineage view (a lazily loaded chunk) imports this. */
import { GraphChart } from "echarts/charts";
import { echarts } from "./echarts";

echarts.use([GraphChart]);

export { echarts };
