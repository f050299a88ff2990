/**
 * CSV writing (RFC 4180): a cell is quoted when it holds a comma, a quote or a line break. A cell a spreadsheet
 * would read as a formula (starting with =, +, -, @, a tab or a carriage return) gets a leading apostrophe, so
 * opening an export never runs what a prospect put in their name or bio (OWASP's CSV injection advice).
 */

const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One line of cells, ended by CRLF. */
export const csvLine = (cells: ReadonlyArray<string | number | boolean | null | undefined>): string => `${cells.map(csvCell).join(',')}\r\n`;
