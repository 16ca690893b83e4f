/**
 * The chat list's date groups, as ChatGPT shows them: Today, Yesterday, Previous 7 days, Older.
 * Days are calendar days in the reader's time zone (sent by the browser in the `tz` cookie; UTC until
 * it has been seen), so a chat from 23:30 is "Yesterday" at 00:10, not "Today".
 */
export const chatGroupNames = ["Today", "Yesterday", "Previous 7 days", "Older"] as const;
export type ChatGroupName = (typeof chatGroupNames)[number];

export const TIME_ZONE_COOKIE = "tz";

/**
 * The canonical name of an IANA time zone the runtime knows, or undefined (anything else from a
 * cookie is ignored). Canonical, so "europe/paris" and "Europe/Paris" are one zone, and the
 * formatter cache below is bounded by the zones that exist, not by what clients send.
 */
export function validTimeZone(value: string | null | undefined): string | undefined {
  if (!value || value.length > 64 || !/^[A-Za-z0-9_+\-/]+$/.test(value)) return undefined;
  try {
    return new Intl.DateTimeFormat("en", { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
/** Well above the few hundred zones there are: a safety net, not a limit anyone reaches. */
const MAX_FORMATTERS = 1000;

/** Days since 1970-01-01 of the calendar date `date` falls on in `timeZone`. */
export function calendarDay(date: Date, timeZone: string) {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    });
    if (formatters.size >= MAX_FORMATTERS) formatters.clear();
    formatters.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(date).map((part) => [part.type, part.value]));
  return Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day)) / 86_400_000;
}

export function chatGroupOf(updatedAt: Date, now: Date, timeZone: string): ChatGroupName {
  const age = calendarDay(now, timeZone) - calendarDay(updatedAt, timeZone);
  if (age <= 0) return "Today";
  if (age === 1) return "Yesterday";
  if (age <= 7) return "Previous 7 days";
  return "Older";
}

/** Chats (newest first) split into the non-empty groups, in order. */
export function groupChats<T extends { updatedAt: Date }>(chats: T[], now: Date, timeZone: string) {
  const groups = new Map<ChatGroupName, T[]>();
  for (const chat of chats) {
    const name = chatGroupOf(chat.updatedAt, now, timeZone);
    groups.set(name, [...(groups.get(name) ?? []), chat]);
  }
  return chatGroupNames.flatMap((name) => (groups.has(name) ? [{ name, chats: groups.get(name)! }] : []));
}
