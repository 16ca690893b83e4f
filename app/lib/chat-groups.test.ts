import { describe, expect, test } from "vitest";
import { chatGroupOf, groupChats, validTimeZone } from "./chat-groups";

describe("chat list groups", () => {
  const now = new Date("2026-12-06T00:10:00Z");

  test("calendar days in the reader's time zone, not 24-hour windows", () => {
    expect(chatGroupOf(new Date("2026-12-06T00:01:00Z"), now, "UTC")).toBe("Today");
    expect(chatGroupOf(new Date("2026-12-05T23:30:00Z"), now, "UTC")).toBe("Yesterday");
    // In New York it is still 5 December, 19:10: both are "Today" there.
    expect(chatGroupOf(new Date("2026-12-05T23:30:00Z"), now, "America/New_York")).toBe("Today");
    expect(chatGroupOf(new Date("2026-12-05T04:00:00Z"), now, "America/New_York")).toBe("Yesterday");
  });

  test("previous 7 days, then older; a clock a little ahead still counts as today", () => {
    expect(chatGroupOf(new Date("2026-11-29T12:00:00Z"), now, "UTC")).toBe("Previous 7 days");
    expect(chatGroupOf(new Date("2026-11-28T23:59:00Z"), now, "UTC")).toBe("Older");
    expect(chatGroupOf(new Date("2026-12-06T00:20:00Z"), now, "UTC")).toBe("Today");
  });

  test("groups keep the list's order and leave out empty ones", () => {
    const chats = [
      { id: "a", updatedAt: new Date("2026-12-06T00:05:00Z") },
      { id: "b", updatedAt: new Date("2026-12-03T00:05:00Z") },
      { id: "c", updatedAt: new Date("2026-12-02T00:05:00Z") },
      { id: "d", updatedAt: new Date("2025-01-01T00:00:00Z") },
    ];
    expect(groupChats(chats, now, "UTC").map((group) => [group.name, group.chats.map((c) => c.id)])).toEqual([
      ["Today", ["a"]],
      ["Previous 7 days", ["b", "c"]],
      ["Older", ["d"]],
    ]);
  });

  test("only real IANA names are taken from the cookie", () => {
    expect(validTimeZone("Europe/Berlin")).toBe("Europe/Berlin");
    // Any casing names the same zone, so a client cannot make the server keep one per spelling.
    expect(validTimeZone("europe/BERLIN")).toBe("Europe/Berlin");
    expect(validTimeZone("Mars/Olympus")).toBeUndefined();
    expect(validTimeZone("UTC; drop table")).toBeUndefined();
    expect(validTimeZone("")).toBeUndefined();
    expect(validTimeZone(null)).toBeUndefined();
  });
});
