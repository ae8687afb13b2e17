/** ECharts with only the parts the app draws (parallel coordinates, scatter, heatmap, bars). */
import { BarChart, HeatmapChart, ParallelChart, ScatterChart } from "echarts/charts";
import { GridComponent, ParallelComponent, TooltipComponent, VisualMapComponent, DataZoomComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";

echarts.use([ParallelChart, ScatterChart, HeatmapChart, BarChart, GridComponent, ParallelComponent, TooltipComponent, VisualMapComponent, DataZoomComponent, CanvasRenderer]);

export { echarts };
