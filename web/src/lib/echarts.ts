/** ECharts with only the parts the app draws (parallel coordinates, scatter, heatmap, bars, custom-chart lines). */
import { BarChart, HeatmapChart, LineChart, ParallelChart, ScatterChart } from "echarts/charts";
import { GridComponent, LegendComponent, ParallelComponent, TitleComponent, TooltipComponent, VisualMapComponent, DataZoomComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";

echarts.use([ParallelChart, ScatterChart, HeatmapChart, BarChart, LineChart, GridComponent, LegendComponent, TitleComponent, ParallelComponent, TooltipComponent, VisualMapComponent, DataZoomComponent, CanvasRenderer]);

export { echarts };
