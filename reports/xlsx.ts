/** What the spreadsheet reports share: exceljs loaded on demand, and cells that never start a formula. */
import type ExcelJSModule from 'exceljs';

/** A spreadsheet cell never starts a formula: text that looks like one is written as a string with a leading quote. */
export const safeCell = (v: string): string => (/^[=+\-@\t\r]/.test(v) ? `'${v}` : v);

/**
 * A new workbook. exceljs is loaded only when a workbook is written: it is the heaviest module starbench has
 * (~25 MB of a run's RSS), and a run asked for JSON or HTML never needs it.
 */
export function newWorkbook(creator: string, created: Date): ExcelJSModule.Workbook {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ExcelJS = require('exceljs') as typeof ExcelJSModule;
  const wb = new ExcelJS.Workbook();
  wb.creator = creator;
  wb.created = created;
  return wb;
}

/** One sheet: a title row, a bold header, the rows (each cell made safe), column widths, wrapped text, the header frozen. */
export function addTable(
  wb: ExcelJSModule.Workbook,
  name: string,
  title: string,
  columns: readonly string[],
  rows: readonly string[][],
  widths: readonly number[],
): void {
  const ws = wb.addWorksheet(name);
  ws.addRow([title]);
  ws.mergeCells(1, 1, 1, columns.length);
  ws.addRow([...columns]).font = { bold: true };
  for (const r of rows) ws.addRow(r.map(safeCell));
  ws.columns.forEach((c, i) => {
    c.width = widths[i];
    c.alignment = { wrapText: true, vertical: 'top' };
  });
  ws.views = [{ state: 'frozen', ySplit: 2 }];
}
