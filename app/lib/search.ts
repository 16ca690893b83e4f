import { z } from "zod";

export const SEARCH_MAX_QUERY_LENGTH = 200;
export const SEARCH_PAGE_SIZE = 20;
/**
 * Ranking looks at the most recent matches only (see search.server.ts), so pages past this would
 * always be empty; refusing them also bounds the OFFSET.
 */
export const SEARCH_MAX_PAGE = 50;

/** The /search query string: `q` (trimmed; empty means "show the empty state") and `page`. */
export const searchParamsSchema = z.object({
  q: z
    .string()
    .trim()
    .max(SEARCH_MAX_QUERY_LENGTH, `Search for at most ${SEARCH_MAX_QUERY_LENGTH} characters.`)
    .default(""),
  page: z.coerce
    .number({ error: "Page must be a number." })
    .int("Page must be a whole number.")
    .min(1, "Page must be 1 or more.")
    .max(SEARCH_MAX_PAGE, `Results stop at page ${SEARCH_MAX_PAGE}; refine the search instead.`)
    .default(1),
});

export type SearchParams = z.infer<typeof searchParamsSchema>;

/** A piece of highlighted text: `mark` pieces matched the query. Rendered as text, never as HTML. */
export interface HighlightSegment {
  text: string;
  mark: boolean;
}
