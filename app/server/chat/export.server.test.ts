import { describe, expect, test } from "vitest";
import { csvField, csvRow, parseExportFormat } from "./export.server";

describe("csvField", () => {
  test.each([
    ["plain", "plain"],
    ["", ""],
    ["a,b", '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ["two\nlines", '"two\nlines"'],
    ["cr\rhere", '"cr\rhere"'],
    // Formula triggers get a leading quote (OWASP), and are quoted when they also need it.
    ["=1+1", "'=1+1"],
    ["+1", "'+1"],
    ["-1", "'-1"],
    ["@cmd", "'@cmd"],
    ["\tx", "'\tx"],
    ["\rx", '"\'\rx"'],
    ['=HYPERLINK("http://x","y")', `"'=HYPERLINK(""http://x"",""y"")"`],
    ["a=1", "a=1"],
  ])("%j → %j", (input, expected) => {
    expect(csvField(input)).toBe(expected);
  });

  test("numbers and empty values", () => {
    expect(csvField(42)).toBe("42");
    expect(csvField(12n)).toBe("12");
    expect(csvField(null)).toBe("");
    expect(csvField(undefined)).toBe("");
  });

  test("rows end with CRLF", () => {
    expect(csvRow(["a", null, "b,c"])).toBe('a,,"b,c"\r\n');
  });
});

test("parseExportFormat: absent means JSON, unknown is null", () => {
  expect(parseExportFormat(null)).toBe("json");
  expect(parseExportFormat("")).toBe("json");
  expect(parseExportFormat("csv")).toBe("csv");
  expect(parseExportFormat("md")).toBe("md");
  expect(parseExportFormat("CSV")).toBeNull();
  expect(parseExportFormat("xml")).toBeNull();
});
