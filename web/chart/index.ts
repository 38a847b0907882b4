export { donutChart } from './donut.ts';
export type { DonutSlice } from './donut.ts';
export { stackedBarChart } from './bars.ts';
export type { BarSeries, StackedBar } from './bars.ts';
