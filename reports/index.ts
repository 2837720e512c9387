/** One name → reporter map for the file formats. */
import { checklistCsvReporter } from './checklist-csv';
import { htmlReporter } from './html';
import { jsonReporter } from './json';
import { junitReporter } from './junit';
import { nullReporter } from './null';
import type { Reporter } from './reporter';

export const FILE_REPORTERS: Record<string, () => Reporter> = {
  html: htmlReporter,
  junit: junitReporter,
  'checklist-csv': checklistCsvReporter,
  // json last: it writes report.json, which records any error the others raised.
  json: jsonReporter,
  null: nullReporter,
};

export const DEFAULT_FORMATS = ['html', 'junit', 'json'];

export function fileReporters(formats: readonly string[]): Reporter[] {
  const order = Object.keys(FILE_REPORTERS);
  return [...formats].sort((a, b) => order.indexOf(a) - order.indexOf(b)).map((f) => FILE_REPORTERS[f]());
}
