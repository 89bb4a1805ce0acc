// What the CLI shows a person: the training curves and attention heatmaps as SVG, and the progress line.
export { curvesSvg, niceTicks } from './svg';
export { heatmapSvg } from './heatmap';
export type { HeatmapOptions } from './heatmap';
export { progressBar, formatDuration, formatRate } from './progress';
export type { ProgressState } from './progress';
