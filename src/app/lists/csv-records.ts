import { isUtf8 } from 'node:buffer';
import { parse } from 'csv-parse/sync';

/**
 * A CSV row: its fields and the positions of those that are not valid UTF-8, or why it cannot be read; and where
 * it ends, in bytes from where reading started (a place reading can resume from).
 */
export type CsvEntry = ({ fields: string[]; notUtf8: number[] } | { error: string }) & { end: number };

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Reads CSV rows from a byte stream in file order. Rows are framed here (a line ending outside quotes ends one,
 * as \n, \r\n or \r), so that a row over `maxRowBytes` is one unreadable row whose bytes are skipped without
 * being held (csv-parse's own limit, once hit, reported each further 64 KiB of the row as a row and lost the
 * rows after it), and a malformed row never costs the rows after it. Each row's fields are then parsed by
 * csv-parse, as bytes, so that text which is not UTF-8 is seen for what it is rather than read as U+FFFD.
 */
export async function* csvEntries(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, maxRowBytes: number): AsyncGenerator<CsvEntry> {
  let offset = 0; // bytes of the source consumed before the current chunk
  let row: Buffer[] = [];
  let rowBytes = 0;
  let oversize = false;
  let first = true;
  let inQuotes = false;
  let fieldQuoted = false;
  let fieldStart = true;
  let afterCr = false;
  let quoted = false; // the row has a quote somewhere

  const finish = function* (end: number): Generator<CsvEntry> {
    const bytes = Buffer.concat(row);
    const tooLarge = oversize;
    const plain = !quoted;
    row = [];
    rowBytes = 0;
    oversize = false;
    inQuotes = fieldQuoted = afterCr = quoted = false;
    fieldStart = true;
    const text = first && bytes.subarray(0, 3).equals(BOM) ? bytes.subarray(3) : bytes;
    first = false;
    if (tooLarge) {
      yield { error: `the row is larger than ${maxRowBytes} bytes`, end };
      return;
    }
    yield* plain ? plainFields(text, end) : fieldsOf(text, end);
  };
  const keep = (piece: Buffer) => {
    if (oversize) return;
    rowBytes += piece.length;
    if (rowBytes > maxRowBytes) {
      oversize = true;
      row = [];
    } else row.push(piece);
  };

  for await (const piece of source) {
    const chunk = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (afterCr) {
        afterCr = false;
        if (byte === LF) {
          keep(chunk.subarray(start, i + 1));
          start = i + 1;
          yield* finish(offset + i + 1);
          continue;
        }
        // A lone \r ended the row before this byte.
        keep(chunk.subarray(start, i));
        start = i;
        yield* finish(offset + i);
      }
      // A byte order mark opens the file without opening its first field.
      if (offset + i < BOM.length && byte === BOM[offset + i]) continue;
      if (inQuotes) {
        if (byte === QUOTE) inQuotes = false;
        else {
          // Nothing but the closing quote matters inside quotes: skip to it (or past this chunk).
          const close = chunk.indexOf(QUOTE, i + 1);
          i = (close < 0 ? chunk.length : close) - 1;
        }
      } else if (byte === QUOTE) {
        quoted = true;
        // A quote opens a quoted field at its start, or continues one ("" inside it); elsewhere it is text.
        if (fieldStart || fieldQuoted) inQuotes = fieldQuoted = true;
        fieldStart = false;
      } else if (byte === COMMA) {
        fieldStart = true;
        fieldQuoted = false;
      } else if (byte === LF) {
        keep(chunk.subarray(start, i + 1));
        start = i + 1;
        yield* finish(offset + i + 1);
      } else if (byte === CR) afterCr = true;
      else fieldStart = false;
    }
    keep(chunk.subarray(start));
    offset += chunk.length;
  }
  if (rowBytes > 0 || oversize) yield* finish(offset);
}

/** The fields of a framed row without quotes (most rows): its text between commas, as csv-parse would read it. */
function* plainFields(bytes: Buffer, end: number): Generator<CsvEntry> {
  let length = bytes.length;
  while (length > 0 && (bytes[length - 1] === LF || bytes[length - 1] === CR)) length--;
  if (length === 0) return;
  const fields: Buffer[] = [];
  let from = 0;
  for (let at = bytes.indexOf(COMMA); at >= 0 && at < length; at = bytes.indexOf(COMMA, from)) {
    fields.push(bytes.subarray(from, at));
    from = at + 1;
  }
  fields.push(bytes.subarray(from, length));
  yield entryOf(fields, end);
}

const entryOf = (fields: Buffer[], end: number): CsvEntry => ({
  fields: fields.map((field) => field.toString('utf8')),
  notUtf8: fields.flatMap((field, at) => (isUtf8(field) ? [] : [at])),
  end,
});

/** The fields of one framed row with quotes, by csv-parse (none for a blank line). */
function* fieldsOf(bytes: Buffer, end: number): Generator<CsvEntry> {
  let records: Buffer[][];
  try {
    records = parse(bytes, { encoding: null, relax_quotes: true, relax_column_count: true, skip_empty_lines: true }) as unknown as Buffer[][];
  } catch (error) {
    yield { error: (error as Error).message, end };
    return;
  }
  const [record, ...more] = records;
  if (!record) return;
  // The framing above and csv-parse disagree about where this row ends: it cannot be read as one row.
  if (more.length > 0) {
    yield { error: 'the row cannot be told apart from the next', end };
    return;
  }
  yield entryOf(record, end);
}
