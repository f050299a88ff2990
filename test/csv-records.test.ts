import fc from 'fast-check';
import { parse } from 'csv-parse';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { csvEntries } from '../src/app/lists/csv-records.js';

const read = async (chunks: Buffer[], maxRowBytes = 65_536) => {
  const entries = [];
  for await (const entry of csvEntries(chunks, maxRowBytes)) entries.push(entry);
  return entries;
};

/** What csv-parse reads from the same bytes in one stream: the rows' fields, with each row's end. */
async function csvParse(bytes: Buffer): Promise<Array<{ fields: string[]; end: number }>> {
  const rows = [];
  const parser = Readable.from([bytes]).pipe(parse({ bom: true, relax_quotes: true, relax_column_count: true, skip_empty_lines: true, info: true }));
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { bytes: number } }>) rows.push({ fields: record, end: info.bytes });
  return rows;
}

/** A field: plain text (stray quotes inside it are text), or quoted with commas, quotes and line breaks inside. */
const field = fc.oneof(
  fc.stringMatching(/^[a-z0-9 éü💩-]{0,8}$/),
  fc.stringMatching(/^[a-z][a-z"]{0,6}$/),
  fc.stringMatching(/^[a-z ,"\n\r]{0,8}$/).map((text) => `"${text.replaceAll('"', '""')}"`),
);
const csv = fc.tuple(
  fc.boolean(),
  fc.array(fc.array(field, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 8 }),
  fc.constantFrom('\n', '\r\n'),
);

describe('reading CSV rows', () => {
  it('reads what csv-parse reads, row ends included, however the bytes are split into chunks', async () => {
    await fc.assert(
      fc.asyncProperty(csv, fc.integer({ min: 1, max: 16 }), async ([bom, rows, newline], chunkSize) => {
        const bytes = Buffer.from(`${bom ? '\ufeff' : ''}${rows.map((row) => row.join(',')).join(newline)}${newline}`);
        const chunks = Array.from({ length: Math.ceil(bytes.length / chunkSize) }, (_, i) => bytes.subarray(i * chunkSize, (i + 1) * chunkSize));
        const expected = await csvParse(bytes);
        const entries = (await read(chunks)).map((entry) => ('fields' in entry ? { fields: entry.fields, end: entry.end } : entry));
        expect(entries).toEqual(expected);
      }),
      { numRuns: 400 },
    );
  });

  it('reads a row over the limit as one unreadable row, and the rows after it', async () => {
    const big = 'x'.repeat(1_000);
    const bytes = Buffer.from(`a,b\n1,"${big}\n${big}"\n2,${big}\n3,c\n`);
    const entries = await read([bytes.subarray(0, 500), bytes.subarray(500)], 600);
    expect(entries.map((e) => ('fields' in e ? e.fields : e.error))).toEqual([['a', 'b'], 'the row is larger than 600 bytes', 'the row is larger than 600 bytes', ['3', 'c']]);
    expect(entries.at(-1)!.end).toBe(bytes.length);
  });

  it('ends rows at a lone \\r too, and names the fields that are not UTF-8', async () => {
    const entries = await read([Buffer.concat([Buffer.from('a,b\r1,x'), Buffer.from([0xc3]), Buffer.from('\r2,"q"\r')])]);
    expect(entries).toEqual([
      { fields: ['a', 'b'], notUtf8: [], end: 4 },
      { fields: ['1', 'x\ufffd'], notUtf8: [1], end: 9 },
      { fields: ['2', 'q'], notUtf8: [], end: 15 },
    ]);
  });
});
