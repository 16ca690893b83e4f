/**
 * A strict RFC 4180 parser for checking exports: CRLF record ends, quoted fields with doubled
 * quotes and embedded CR/LF. Throws on anything malformed (a bare LF between records, a stray
 * quote), so a sloppy export fails the test instead of being parsed generously.
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let i = 0;
  const fail = (why: string) => {
    throw new Error(
      `invalid CSV at offset ${i}: ${why} (${JSON.stringify(text.slice(Math.max(0, i - 20), i + 20))})`,
    );
  };
  while (i < text.length) {
    let field = "";
    if (text[i] === '"') {
      i++;
      while (true) {
        if (i >= text.length) fail("unterminated quoted field");
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            i++;
            break;
          }
        } else field += text[i++];
      }
    } else {
      while (i < text.length && text[i] !== "," && text[i] !== "\r" && text[i] !== "\n") {
        if (text[i] === '"') fail("quote inside an unquoted field");
        field += text[i++];
      }
    }
    record.push(field);
    if (text[i] === ",") {
      i++;
    } else if (text.startsWith("\r\n", i)) {
      i += 2;
      records.push(record);
      record = [];
    } else if (i < text.length) {
      fail("expected a comma or CRLF after a field");
    }
  }
  if (record.length > 0) fail("the last record does not end with CRLF");
  return records;
}
