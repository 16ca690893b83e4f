import { describe, expect, test } from "vitest";
import { isSearchable, parseHighlights, prefixesLastWord } from "./search.server";

describe("prefixesLastWord", () => {
  test.each([
    ["strea", true],
    ["postgres strea", true],
    ["日本", true],
    ["stream ", true], // trimmed: the form cannot tell a finished word from an unfinished one
    ["s", false], // one letter would expand to a large part of the vocabulary
    ['"stream tokens"', false], // a closed phrase is exact
    ["postgres -strea", false], // excluding every word that starts with it is not what was meant
    ["stream!", false],
    ["", false],
  ])("%j → %s", (q, expected) => {
    expect(prefixesLastWord(q)).toBe(expected);
  });
});

describe("parseHighlights", () => {
  test("splits on the sentinels into plain and marked pieces", () => {
    expect(parseHighlights("a \u0002b\u0003 c \u0002d\u0003")).toEqual([
      { text: "a ", mark: false },
      { text: "b", mark: true },
      { text: " c ", mark: false },
      { text: "d", mark: true },
    ]);
  });

  test("keeps markup as text and restores the swapped <", () => {
    expect(parseHighlights("\ue000b>x\ue000/b> \u0002<y>\u0003")).toEqual([
      { text: "<b>x</b> ", mark: false },
      { text: "<y>", mark: true },
    ]);
  });

  test("no sentinels, no marks; empty input, no pieces", () => {
    expect(parseHighlights("plain")).toEqual([{ text: "plain", mark: false }]);
    expect(parseHighlights("")).toEqual([]);
  });
});

test("isSearchable needs a letter or digit", () => {
  expect(isSearchable("!!! ?")).toBe(false);
  expect(isSearchable("a")).toBe(true);
  expect(isSearchable("42")).toBe(true);
  expect(isSearchable("ü")).toBe(true);
});
