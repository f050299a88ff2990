import { describe, expect, it } from 'vitest';
import { csvCell, csvLine } from '../../src/core/csv.js';

describe('CSV export cells', () => {
  it('neutralise every start a spreadsheet reads as a formula (= + - @ TAB CR) with a leading apostrophe', () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r']) {
      const cell = csvCell(`${start}SUM(A1:A9)`);
      expect(cell.replace(/^"/, '').startsWith(`'${start}`), JSON.stringify(cell)).toBe(true);
    }
    // Numbers are numbers; only text is a risk. Quoting still follows RFC 4180.
    expect(csvCell(-5)).toBe('-5');
    expect(csvCell('\rX')).toBe('"\'\rX"');
    expect(csvCell('a "b", c')).toBe('"a ""b"", c"');
    expect(csvLine(['=1', null, 'ok'])).toBe("'=1,,ok\r\n");
  });
});
