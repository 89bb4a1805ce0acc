export { parseIdx, mnistImages, mnistImageBytes, mnistLabels, type Idx, type IdxData } from './idx';
export { parseCsv, type Csv, type CsvOptions } from './csv';
export { trainTestSplit, type Split, type SplitOptions, type Targets } from './split';
export { standardScaler, StandardScaler, type ScalerJSON } from './scaler';
export { oneHot } from './onehot';
