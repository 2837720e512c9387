/** One name → reporter map for the file formats. */
import { checklistCsvReporter } from './checklist-csv';
import { htmlReporter } from './html';
import type { Lang } from './i18n';
import { jsonReporter } from './json';
import { junitReporter } from './junit';
import { markdownReporter } from './markdown';
import { nullReporter } from './null';
import type { Reporter } from './reporter';

export interface ReporterOptions {
  lang?: Lang;
}

export const FILE_REPORTERS: Record<string, (opts: ReporterOptions) => Reporter> = {
  html: (o) => htmlReporter({ lang: o.lang }),
  junit: () => junitReporter(),
  'checklist-csv': () => checklistCsvReporter(),
  md: () => markdownReporter(),
  // json last: it writes report.json, which records any error the others raised.
  json: () => jsonReporter(),
  null: () => nullReporter(),
};

export const DEFAULT_FORMATS = ['html', 'junit', 'json'];

export function fileReporters(formats: readonly string[], opts: ReporterOptions = {}): Reporter[] {
  const order = Object.keys(FILE_REPORTERS);
  return [...formats].sort((a, b) => order.indexOf(a) - order.indexOf(b)).map((f) => FILE_REPORTERS[f](opts));
}
