/**
 * Full-text search over one user's chat titles and message contents, on the GIN-indexed generated
 * `search_vector` columns (text-search config 'simple': no stemming, no stop words, the same for
 * every language).
 *
 * Ranking: ts_rank, then recency, over the user's RANK_WINDOW most recent title matches and
 * RANK_WINDOW most recent message matches. Ranking every match of a word that occurs in most
 * messages would mean reading every one of those rows (hundreds of thousands at a million
 * messages); with the cap, common words are found by walking messages newest-first and rare ones
 * through the GIN index, and both stay fast (bench/README.md has the numbers). A word that common
 * carries little relevance signal anyway, and the newest matches are the likeliest wanted.
 */
import { Prisma } from "~/generated/prisma/client";
import { type HighlightSegment, SEARCH_MAX_PAGE, SEARCH_PAGE_SIZE } from "~/lib/search";
import { db } from "../db.server";

/** How many of the newest title matches and message matches are ranked (every page of them). */
const RANK_WINDOW = SEARCH_PAGE_SIZE * SEARCH_MAX_PAGE;
/** How many of the newest messages (everyone's) may be walked newest-first; see messageCandidates. */
const RECENT_ROWS = 100_000;

// ts_headline wraps matches in these. They are control characters that are stripped from the text
// before highlighting, so a message cannot fake a highlight, and the page renders the pieces as
// text inside <mark>: no HTML ever comes from the database.
const START = "\u0002";
const STOP = "\u0003";
// ts_headline drops anything that looks like an HTML tag from its excerpts, which mangles messages
// about code ("use <div> here" would read "use  here"). So `<` is swapped for a private-use
// character before highlighting and back afterwards.
const LT = "\uE000";
const SNIPPET_OPTIONS = `StartSel=${START}, StopSel=${STOP}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "`;
const TITLE_OPTIONS = `StartSel=${START}, StopSel=${STOP}, HighlightAll=true`;

export interface SearchHit {
  chatId: string;
  /** Null for a match on the chat title alone. */
  messageId: string | null;
  role: "system" | "user" | "assistant" | null;
  title: HighlightSegment[];
  /** A highlighted excerpt of the message; null for title matches. */
  snippet: HighlightSegment[] | null;
  /** The message's time, or the chat's last activity for title matches (ISO 8601). */
  at: string;
}

export interface SearchResult {
  hits: SearchHit[];
  hasMore: boolean;
}

/**
 * Whether the last word of `q` should match as a prefix ("strea" finds "streaming"). Not when the
 * query ends in a closing quote or punctuation (the user finished the word), when the last word is
 * negated (`-word`), or when it is a single character, which would expand to a large part of the
 * vocabulary.
 */
export function prefixesLastWord(q: string) {
  const lastToken = q.trim().split(/\s+/).at(-1) ?? "";
  const lastWord = /[\p{L}\p{N}_]+$/u.exec(lastToken)?.[0];
  if (!lastWord || lastToken.startsWith("-")) return false;
  return [...lastWord].length >= 2;
}

/**
 * The tsquery for `q`, as SQL with `q` bound as a parameter. websearch_to_tsquery parses the
 * user's syntax ("phrases", or, -not) and never fails; for a prefix, its normalised output gets
 * `:*` after the final lexeme, a quoted string PostgreSQL produced itself, so no user text is ever
 * spliced into the query syntax. Both functions are immutable, so PostgreSQL folds the expression
 * to a constant while planning and can use its statistics to choose a plan.
 */
export function tsQuerySql(q: string): Prisma.Sql {
  // Angle brackets are spaces, as in the indexed text (see the search_vector columns), so a query
  // like "<img onerror" is words, not an HTML tag the parser would drop.
  const parsed = Prisma.sql`websearch_to_tsquery('simple', ${q.replace(/[<>]/g, " ")})`;
  if (!prefixesLastWord(q)) return parsed;
  return Prisma.sql`regexp_replace(${parsed}::text, '''((?:[^'']|'''')*)''$', '''\\1'':*')::tsquery`;
}

/** Splits ts_headline output on the sentinel markers into plain and highlighted pieces. */
export function parseHighlights(text: string): HighlightSegment[] {
  const segments: HighlightSegment[] = [];
  let mark = false;
  let from = 0;
  for (let i = 0; i <= text.length; i++) {
    const char = text[i];
    if (i < text.length && char !== START && char !== STOP) continue;
    if (i > from) segments.push({ text: text.slice(from, i).replaceAll(LT, "<"), mark });
    mark = char === START;
    from = i + 1;
  }
  return segments;
}

/** True when `q` has anything to search for (websearch_to_tsquery ignores punctuation). */
export function isSearchable(q: string) {
  return /[\p{L}\p{N}]/u.test(q);
}

export interface Candidate {
  chat_id: string;
  message_id: bigint | null;
  rank: number;
  at: Date;
}

/**
 * The user's newest RANK_WINDOW message matches, with their ts_rank.
 *
 * For a common word the fast way is to walk messages newest-first and stop after RANK_WINDOW
 * matches; for a rare word it is the GIN index. PostgreSQL chooses from its estimate of how many
 * rows match, but it prices the per-row `@@` check far below its real cost and estimates phrases as
 * if their words could be anywhere in the message, so it walks too eagerly, and a walk that finds
 * fewer matches than hoped reads the whole table (seconds at a million messages). So the walk is
 * bounded: it covers the newest RECENT_ROWS messages (any plan the planner likes is bounded by that
 * range), possibly once more four times as many; if that has not found RANK_WINDOW matches, the
 * word is uncommon and the older messages are searched through the indexes, with `m.id + 0`
 * keeping the planner off the unbounded walk.
 */
export async function messageCandidates(
  chatIds: string[],
  query: Prisma.Sql,
  recentRows = RECENT_ROWS, // smaller in tests, to exercise every path on a small table
): Promise<Candidate[]> {
  // Not Prisma's aggregate(): it wraps the table in an OFFSET subquery, which defeats PostgreSQL's
  // max-from-the-index shortcut and reads the whole primary key (100+ ms at a million rows).
  const [newest] = await db().$queryRaw<{ id: bigint | null }[]>`SELECT max(id) AS id FROM messages`;
  const top = newest.id ?? 0n;
  const found: Candidate[] = [];
  // Newest-first over the newest RECENT_ROWS messages, then, if they held at least a quarter of
  // what is needed (so the word is common enough that walking on is the cheaper way), over four
  // times as many: one bounded step instead of a cliff between "common" and "not common".
  let floor = top;
  for (const rows of [recentRows, recentRows * 4]) {
    const ceiling = floor;
    floor = top - BigInt(rows);
    found.push(
      ...(await db().$queryRaw<Candidate[]>`
        SELECT m.chat_id, m.id AS message_id, ts_rank(m.search_vector, ${query}) AS rank, m.created_at AS at
        FROM messages m
        WHERE m.id > ${floor} AND m.id <= ${ceiling}
          AND m.chat_id = ANY(${chatIds}::text[]) AND m.search_vector @@ ${query}
        ORDER BY m.id DESC
        LIMIT ${RANK_WINDOW - found.length}`),
    );
    if (found.length === RANK_WINDOW || floor <= 0n || found.length * 4 < RANK_WINDOW) break;
  }
  if (found.length === RANK_WINDOW || floor <= 0n) return found;
  // ts_rank outside the sort, so it is computed for the kept rows only.
  const older = await db().$queryRaw<Candidate[]>`
    SELECT chat_id, message_id, ts_rank(search_vector, ${query}) AS rank, at
    FROM (
      SELECT m.chat_id, m.id AS message_id, m.search_vector, m.created_at AS at
      FROM messages m
      WHERE m.id <= ${floor} AND m.chat_id = ANY(${chatIds}::text[]) AND m.search_vector @@ ${query}
      ORDER BY m.id + 0 DESC
      LIMIT ${RANK_WINDOW - found.length}
    ) newest`;
  return [...found, ...older];
}

/** The user's newest RANK_WINDOW chats whose title matches (a user has few chats; cheap either way). */
function titleCandidates(userId: string, query: Prisma.Sql): Promise<Candidate[]> {
  return db().$queryRaw<Candidate[]>`
    SELECT c.id AS chat_id, NULL::bigint AS message_id, ts_rank(c.search_vector, ${query}) AS rank,
           c.updated_at AS at
    FROM chats c
    WHERE c.user_id = ${userId} AND c.search_vector @@ ${query}
    ORDER BY c.updated_at DESC
    LIMIT ${RANK_WINDOW}`;
}

/** Best rank first, then newest; the rest only makes the order total, so pages never overlap. */
function byRankThenRecency(a: Candidate, b: Candidate) {
  return (
    b.rank - a.rank ||
    b.at.getTime() - a.at.getTime() ||
    Number((b.message_id ?? -1n) - (a.message_id ?? -1n)) ||
    (a.chat_id < b.chat_id ? -1 : a.chat_id > b.chat_id ? 1 : 0)
  );
}

interface Row {
  chat_id: string;
  message_id: string | null;
  role: SearchHit["role"];
  title: string;
  snippet: string | null;
}

/** One page (1-based) of the user's matches for `q`; only chats owned by `userId` are ever read. */
export async function searchChats(userId: string, q: string, page = 1): Promise<SearchResult> {
  if (!isSearchable(q) || page < 1 || page > SEARCH_MAX_PAGE) return { hits: [], hasMore: false };
  // Messages are filtered by `chat_id = ANY(the user's chats)` rather than by a join on
  // chats.user_id: with the list as a constant the planner knows exactly how many chats (and so
  // roughly how many messages) it is looking at. A join makes it estimate the user's chat count from
  // statistics, and when those are stale (a new user with many chats) it can choose a nested loop
  // that runs a GIN scan per chat: seconds instead of milliseconds at a million messages.
  const own = await db().chat.findMany({ where: { userId }, select: { id: true } });
  if (own.length === 0) return { hits: [], hasMore: false };
  const query = tsQuerySql(q);
  const [titles, messages] = await Promise.all([
    titleCandidates(userId, query),
    messageCandidates(
      own.map((chat) => chat.id),
      query,
    ),
  ]);
  const ranked = [...titles, ...messages].sort(byRankThenRecency);
  const start = (page - 1) * SEARCH_PAGE_SIZE;
  const pageHits = ranked.slice(start, start + SEARCH_PAGE_SIZE);
  if (pageHits.length === 0) return { hits: [], hasMore: false };

  // Highlighting reads whole texts, so it is done for this page only.
  const strip = `${START}${STOP}${LT}`;
  const rows = await db().$queryRaw<Row[]>`
    SELECT p.chat_id, m.id::text AS message_id, m.role::text AS role,
           ts_headline('simple', translate(c.title, ${strip}, ''), ${query}, ${TITLE_OPTIONS}) AS title,
           CASE WHEN m.id IS NOT NULL
             THEN ts_headline('simple', replace(translate(m.content, ${strip}, ''), '<', ${LT}), ${query},
                              ${SNIPPET_OPTIONS})
           END AS snippet
    FROM unnest(${pageHits.map((hit) => hit.chat_id)}::text[],
                ${pageHits.map((hit) => hit.message_id?.toString() ?? null)}::bigint[]) AS p(chat_id, message_id)
    JOIN chats c ON c.id = p.chat_id AND c.user_id = ${userId}
    LEFT JOIN messages m ON m.id = p.message_id AND m.chat_id = p.chat_id`;
  const byKey = new Map(rows.map((row) => [`${row.chat_id}:${row.message_id ?? ""}`, row]));

  return {
    hasMore: ranked.length > start + SEARCH_PAGE_SIZE && page < SEARCH_MAX_PAGE,
    hits: pageHits.flatMap((hit) => {
      const row = byKey.get(`${hit.chat_id}:${hit.message_id ?? ""}`);
      if (!row) return []; // deleted since the candidates were read
      return [
        {
          chatId: row.chat_id,
          messageId: row.message_id,
          role: row.role,
          title: parseHighlights(row.title),
          snippet: row.snippet === null ? null : parseHighlights(row.snippet),
          at: hit.at.toISOString(),
        },
      ];
    }),
  };
}
