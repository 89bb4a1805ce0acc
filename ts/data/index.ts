export { parseIdx, mnistImages, mnistImageBytes, mnistLabels, type Idx, type IdxData } from './idx';
export { parseCsv, type Csv, type CsvOptions } from './csv';
export { trainTestSplit, type Split, type SplitOptions, type Targets } from './split';
export { standardScaler, StandardScaler, type ScalerJSON } from './scaler';
export { oneHot } from './onehot';
export { charVocabulary, CharVocabulary, PAD_ID, UNKNOWN_ID, type CharVocabularyJSON } from './vocabulary';
export { tokenizer, Tokenizer, DEFAULT_FILTERS, type TokenizerOptions, type TokenizerJSON, type TextInput } from './tokenizer';
export { padSequences, lmWindows, type IntArray, type PadOptions, type WindowOptions, type Windows } from './sequences';
export { splitIndices, splitTexts, takeRows, type IndexSplit, type IndexSplitOptions, type TextSplit, type TextSplitOptions } from './text-split';
