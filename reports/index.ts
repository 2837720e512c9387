/** One name → reporter map for the file formats. */
import { checklistCsvReporter } from './checklist-csv';
import { htmlReporter } from './html';
import { jcstarChecklistReporter } from './jcstar-checklist';
import type { Lang } from './i18n';
import { jsonReporter } from './json';
import { junitReporter } from './junit';
import { markdownReporter } from './markdown';
import { nullReporter } from './null';
import { technicalFileReporter } from './technical-file';
import type { Reporter } from './reporter';

export interface ReporterOptions {
  lang?: Lang;
  /** --lang was given (the ★1 checklist is in Japanese unless it was). */
  langGiven?: boolean;
}

/**
 * Every file format, with an explicit writing order: json is written last by
 * design, so that report.json records any error the other reporters raised.
 */
export const FILE_REPORTER_ORDER: Record<string, number> = {
  html: 10,
  junit: 20,
  'checklist-csv': 30,
  'jcstar-checklist': 35,
  'technical-file': 36,
  md: 40,
  null: 50,
  json: 100,
};

export const FILE_REPORTERS: Record<string, (opts: ReporterOptions) => Reporter> = {
  html: (o) => htmlReporter({ lang: o.lang }),
  junit: () => junitReporter(),
  'checklist-csv': () => checklistCsvReporter(),
  'jcstar-checklist': (o) => jcstarChecklistReporter({ lang: o.langGiven ? o.lang : 'ja' }),
  'technical-file': () => technicalFileReporter(),
  md: () => markdownReporter(),
  json: () => jsonReporter(),
  null: () => nullReporter(),
};

export const DEFAULT_FORMATS = ['html', 'junit', 'json'];

export function fileReporters(formats: readonly string[], opts: ReporterOptions = {}): Reporter[] {
  const rank = (f: string): number => FILE_REPORTER_ORDER[f] ?? 60;
  return [...new Set(formats)].sort((a, b) => rank(a) - rank(b)).map((f) => FILE_REPORTERS[f](opts));
}
