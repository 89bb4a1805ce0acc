// What the CLI shows a person: the training curves as SVG and the progress line.
export { curvesSvg, niceTicks } from './svg';
export { progressBar, formatDuration, formatRate } from './progress';
export type { ProgressState } from './progress';
