import { renderToStaticMarkup } from "react-dom/server";
import { bundledLanguages, createHighlighter, type Highlighter } from "shiki";
import { type CodeHighlighter, HighlighterContext, Markdown } from "~/components/markdown";
import { log } from "~/server/log.server";

/**
 * Finished replies are drawn here, on the server, with the same component (and so the same
 * sanitizing) the browser uses while a reply streams. The page then ships HTML instead of a
 * Markdown renderer and a syntax highlighter: they are the heaviest scripts the app has
 * (bench/page-weight.mjs). Code is highlighted with Shiki, whose grammars load once per language.
 */
// These two keep every token colour at 4.5:1 or more on the code block's background (plain
// github-light's reds, greens and oranges and github-dark's comments do not; tests/e2e/a11y.spec.ts).
const THEMES = { light: "github-light-high-contrast", dark: "github-dark-default" } as const;

let highlighter: Promise<Highlighter> | undefined;
function getHighlighter() {
  highlighter ??= createHighlighter({ themes: Object.values(THEMES), langs: [] });
  return highlighter;
}

// A finished reply never changes, and a chat page shows the same replies again and again (every
// reload, every "load older"), so the drawn HTML is kept by text. Bounded: replies can be long.
// Bounded twice: by entries, and by characters (a long reply with highlighted code is a lot of HTML).
const CACHE_LIMIT = 500;
const CACHE_MAX_CHARS = 32_000_000;
const ENTRY_MAX_CHARS = 1_000_000;
const cache = new Map<string, string>();
let cachedChars = 0;

function remember(text: string, html: string) {
  const size = text.length + html.length;
  if (size > ENTRY_MAX_CHARS) return;
  cache.set(text, html);
  cachedChars += size;
  while (cache.size > CACHE_LIMIT || cachedChars > CACHE_MAX_CHARS) {
    const [oldText, oldHtml] = cache.entries().next().value as [string, string];
    cache.delete(oldText);
    cachedChars -= oldText.length + oldHtml.length;
  }
}

// Highlighting is synchronous: a huge block written by a model must not hold the server's event
// loop for every other user. Past this, code is shown plain (still escaped, still in its block).
const MAX_HIGHLIGHT_CHARS = 50_000;

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

export async function renderMarkdown(text: string): Promise<string> {
  const cached = cache.get(text);
  if (cached !== undefined) {
    // Most recently used last, so the oldest entry is the one dropped.
    cache.delete(text);
    cache.set(text, cached);
    return cached;
  }
  try {
    return await draw(text);
  } catch (error) {
    // A stored reply never changes: failing here would fail its chat page for good. Plain text it is.
    log.warn("could not draw a reply as Markdown", { error: String(error) });
    return `<p class="break-words whitespace-pre-wrap">${escapeHtml(text)}</p>`;
  }
}

async function draw(text: string): Promise<string> {
  const shiki = await getHighlighter();
  const missing = new Set<string>();
  const highlight: CodeHighlighter = (code, language) => {
    if (!Object.hasOwn(bundledLanguages, language) || code.length > MAX_HIGHLIGHT_CHARS) return null;
    if (!shiki.getLoadedLanguages().includes(language)) {
      missing.add(language);
      return null;
    }
    const { tokens } = shiki.codeToTokens(code, {
      lang: language as never,
      themes: THEMES,
      defaultColor: false,
    });
    return tokens.map((line) =>
      line.map((token) => ({ content: token.content, style: token.htmlStyle as Record<string, string> })),
    );
  };
  const render = () =>
    renderToStaticMarkup(
      <HighlighterContext value={highlight}>
        <Markdown text={text} />
      </HighlighterContext>,
    );
  let html = render();
  if (missing.size > 0) {
    // First time a language is seen: load its grammar, then draw again with it.
    try {
      await shiki.loadLanguage(...([...missing] as never[]));
      missing.clear();
      html = render();
    } catch (error) {
      log.warn("could not load a code grammar", { languages: [...missing], error: String(error) });
    }
  }
  remember(text, html);
  return html;
}

/** The page's messages with each finished reply's HTML; a reply still streaming is drawn live. */
export async function withReplyHtml<Message extends { role: string; status: string; content: string }>(
  messages: Message[],
): Promise<(Message & { html: string | null })[]> {
  return Promise.all(
    messages.map(async (message) => ({
      ...message,
      html:
        message.role === "assistant" && message.status !== "streaming" && message.content
          ? await renderMarkdown(message.content)
          : null,
    })),
  );
}
