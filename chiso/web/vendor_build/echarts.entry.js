// chiso's ECharts: only the charts and components its pages draw (see docs/frontend.md).
import * as echarts from "echarts/core";
import { BarChart, LineChart, PieChart, ScatterChart, MapChart } from "echarts/charts";
import {
  GridComponent, TooltipComponent, LegendComponent, MarkLineComponent, GeoComponent,
} from "echarts/components";
import { SVGRenderer } from "echarts/renderers";

echarts.use([BarChart, LineChart, PieChart, ScatterChart, MapChart, GridComponent,
  TooltipComponent, LegendComponent, MarkLineComponent, GeoComponent, SVGRenderer]);
window.echarts = echarts;
