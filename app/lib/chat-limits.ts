// Without zod, so the composer (which needs the limit for its maxLength) does not pull zod into the
// chat page's JavaScript.

/** Longest message we accept: far beyond any prompt a person types, small enough to store safely. */
export const MAX_MESSAGE_CHARS = 32_000;
