import { type ComponentProps, type CSSProperties, createContext, useContext } from "react";
import { harden } from "rehype-harden";
import { defaultRehypePlugins, Streamdown } from "streamdown";
import { CopyIcon } from "./chat/icons";

/**
 * Model output is untrusted. Streamdown's defaults let raw HTML through (rehype-raw) and allow every
 * link and image prefix; we drop raw HTML entirely (no rehype-raw: tags show as nothing, never run),
 * keep its sanitizer, and let rehype-harden allow only safe-protocol absolute links. Images are not loaded:
 * a remote image in a reply can leak the conversation to whoever the model was tricked into naming.
 *
 * This one component draws every reply: on the server for finished replies (turned into an HTML
 * string by app/server/chat/markdown.server.tsx, so the browser never downloads a Markdown
 * renderer for them), and in the browser only while a reply streams (loaded lazily). Code blocks
 * and tables are our own, so both paths draw the same markup with no client state: the copy
 * buttons work through one delegated listener (messages.tsx), not through React handlers.
 */
const rehypePlugins = [
  defaultRehypePlugins.sanitize,
  [
    harden,
    {
      // Any absolute link, but only over rehype-harden's safe protocols (http, https, mailto, …);
      // javascript:, data:, vbscript: and relative links are dropped (shown as plain text).
      allowedLinkPrefixes: ["*"],
      allowedImagePrefixes: [],
      allowDataImages: false,
      linkBlockPolicy: "text-only",
      imageBlockPolicy: "indicator",
    },
  ],
] as ComponentProps<typeof Streamdown>["rehypePlugins"];

/** A highlighted line: its pieces of text, each with the CSS variables of its two theme colours. */
export type HighlightedLine = { content: string; style?: Record<string, string> }[];
/** Tokens for a code block, or null when the language is unknown or not loaded (plain text then). */
export type CodeHighlighter = (code: string, language: string) => HighlightedLine[] | null;
/** Given only by the server render: the browser draws streaming code as plain text. */
export const HighlighterContext = createContext<CodeHighlighter | null>(null);

function SafeLink({ href, children }: ComponentProps<"a">) {
  return (
    <a
      href={href}
      target="_blank"
      rel="noopener noreferrer"
      className="text-indigo-600 underline [overflow-wrap:anywhere] dark:text-indigo-400"
    >
      {children}
    </a>
  );
}

// Shown only once the page's script has installed the copy listener (messages.tsx marks the list
// with data-copy-ready): without JavaScript a copy button could do nothing.
export const COPY_BUTTON_CLASS =
  "hidden items-center gap-1 rounded px-1.5 py-0.5 text-xs text-zinc-600 hover:bg-zinc-200 hover:text-zinc-900 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-zinc-400 dark:hover:bg-zinc-800 dark:hover:text-zinc-100 [[data-copy-ready]_&]:inline-flex";

function CodeBlock({ code, language }: { code: string; language: string }) {
  const highlight = useContext(HighlighterContext);
  const lines = language ? highlight?.(code, language) : null;
  return (
    <div
      className="my-3 overflow-hidden rounded-lg border border-zinc-200 bg-zinc-50 dark:border-zinc-800 dark:bg-zinc-900"
      data-code-block=""
      data-testid="code-block"
    >
      <div className="flex h-8 items-center justify-between gap-2 border-b border-zinc-200 bg-zinc-100 px-3 dark:border-zinc-800 dark:bg-zinc-800/60">
        <span
          className="font-mono text-xs text-zinc-600 lowercase dark:text-zinc-400"
          data-testid="code-language"
        >
          {language || "text"}
        </span>
        <button type="button" className={COPY_BUTTON_CLASS} data-copy="code" aria-label="Copy code">
          <CopyIcon />
          <span data-copy-label="">Copy</span>
        </button>
      </div>
      <pre className="overflow-x-auto px-3 py-2 text-sm leading-relaxed">
        <code
          // Each token carries --shiki-light/--shiki-dark; the theme picks one.
          className="font-mono [&_span[style]]:text-(--shiki-light) dark:[&_span[style]]:text-(--shiki-dark)"
        >
          {lines
            ? lines.map((line, index) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: lines never reorder
                <span key={index}>
                  {line.map((token, at) => (
                    // biome-ignore lint/suspicious/noArrayIndexKey: tokens never reorder
                    <span key={at} style={token.style as CSSProperties | undefined}>
                      {token.content}
                    </span>
                  ))}
                  {index < lines.length - 1 ? "\n" : null}
                </span>
              ))
            : code}
        </code>
      </pre>
    </div>
  );
}

const LANGUAGE = /language-([^\s]+)/;

/** Streamdown marks fenced code with data-block; anything else is inline code. */
function Code({ className, children, node: _node, ...props }: ComponentProps<"code"> & { node?: unknown }) {
  if (!("data-block" in props)) {
    return (
      <code className="rounded bg-zinc-100 px-1 py-0.5 font-mono text-[0.9em] [overflow-wrap:anywhere] dark:bg-zinc-800">
        {children}
      </code>
    );
  }
  const text = String(children ?? "").replace(/\n$/, "");
  return <CodeBlock code={text} language={className?.match(LANGUAGE)?.[1]?.toLowerCase() ?? ""} />;
}

/** A wide table scrolls inside its own box, so it never widens the page. */
function Table({ children, node: _node, ...props }: ComponentProps<"table"> & { node?: unknown }) {
  return (
    <div
      className="my-3 max-w-full overflow-x-auto rounded-lg border border-zinc-200 dark:border-zinc-800"
      data-testid="table-box"
    >
      <table {...props} className="w-full border-collapse text-sm [&_td]:align-top">
        {children}
      </table>
    </div>
  );
}

const components = { a: SafeLink, code: Code, table: Table };

export function Markdown({ text, streaming = false }: { text: string; streaming?: boolean }) {
  return (
    <Streamdown
      mode={streaming ? "streaming" : "static"}
      isAnimating={streaming}
      rehypePlugins={rehypePlugins}
      components={components}
      linkSafety={{ enabled: false }}
      className="markdown min-w-0 space-y-3 leading-relaxed [overflow-wrap:anywhere] [&_table]:[overflow-wrap:normal]"
    >
      {text}
    </Streamdown>
  );
}
