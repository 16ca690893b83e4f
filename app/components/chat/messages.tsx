import { lazy, Suspense, useEffect, useLayoutEffect, useRef, useState } from "react";
import { Form, Link, useFetcher, useRevalidator } from "react-router";
import { describeReplyError } from "~/lib/reply-error";
import { CopyIcon, EditIcon, ModelIcon, RegenerateIcon, StopIcon } from "./icons";
import { CHAT_SCROLL_ID } from "./scroll-pane";
import { useHydrated, WaitForReplyInput } from "./use-hydrated";

const scrollPane = () => document.getElementById(CHAT_SCROLL_ID);

import { MessageImages, type MessageImageView } from "./message-images";

export interface MessageView {
  id: string;
  role: "system" | "user" | "assistant";
  content: string;
  thinking: string | null;
  thinkingMs: number | null;
  status: "streaming" | "complete" | "stopped" | "failed";
  error: string | null;
  model: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  ttftMs: number | null;
  totalMs: number | null;
  createdAt: Date | string;
  /** A finished reply drawn to HTML on the server (null while streaming, and for user messages). */
  html: string | null;
  images?: MessageImageView[];
}

/**
 * Follows a reply that is still being written, from whichever replica the browser reaches
 * (server-sent events; EventSource resumes after the last event it saw if the connection drops).
 * When the reply ends, the page data is reloaded so the saved message replaces the live one.
 */
function useLiveText(chatId: string, messageId: string, enabled: boolean) {
  const [text, setText] = useState("");
  const [thinking, setThinking] = useState("");
  const revalidator = useRevalidator();
  // Through a ref: the revalidator changes every render, the subscription must not.
  const revalidate = useRef(revalidator.revalidate);
  revalidate.current = revalidator.revalidate;
  useEffect(() => {
    if (!enabled) return;
    let received = "";
    let thought = "";
    setText("");
    setThinking("");
    const source = new EventSource(`/chat/${chatId}/live/${messageId}`);
    source.onmessage = (message) => {
      const event = JSON.parse(message.data) as
        | { type: "delta" | "thinking"; text: string }
        | { type: "end" };
      if (event.type === "delta") {
        received += event.text;
        setText(received);
      } else if (event.type === "thinking") {
        thought += event.text;
        setThinking(thought);
      } else {
        source.close();
        void revalidate.current();
      }
    };
    return () => source.close();
  }, [chatId, messageId, enabled]);
  return { text, thinking };
}

function thoughtFor(ms: number | null) {
  if (ms === null) return "Thoughts";
  if (ms < 1000) return "Thought for less than a second";
  return `Thought for ${Math.round(ms / 1000)} s`;
}

/**
 * A reasoning model's thinking, folded above the answer: open while the model is still thinking,
 * closed once the answer starts (a <details>, so it opens and closes without JavaScript too).
 * Plain text, not Markdown: it is a draft, and nothing in it should turn into markup.
 */
function ThinkingBlock({ thinking, ms, active }: { thinking: string; ms: number | null; active: boolean }) {
  return (
    <details
      open={active}
      className="group mb-2 rounded border border-zinc-200 bg-zinc-50 text-sm dark:border-zinc-800 dark:bg-zinc-900"
      data-testid="thinking"
    >
      <summary className="cursor-pointer px-3 py-1.5 text-zinc-600 select-none dark:text-zinc-400">
        {active ? <span className="animate-pulse">Thinking…</span> : thoughtFor(ms)}
      </summary>
      <p
        className="max-h-96 overflow-y-auto border-t border-zinc-200 px-3 py-2 break-words whitespace-pre-wrap text-zinc-600 dark:border-zinc-800 dark:text-zinc-400"
        data-testid="thinking-text"
      >
        {thinking}
      </p>
    </details>
  );
}

function seconds(ms: number | null) {
  return ms === null ? "–" : `${(ms / 1000).toFixed(2)} s`;
}

/** Tokens and timings: small and muted, and each part wraps as a whole on a phone. */
function Usage({ message, modelLabel }: { message: MessageView; modelLabel: string | null }) {
  if (message.completionTokens === null) return null;
  const parts = [
    // The header names the model already; its technical name only when a display name hides it.
    message.model && modelLabel !== message.model ? message.model : null,
    `${message.promptTokens} prompt + ${message.completionTokens} completion tokens`,
    `first token ${seconds(message.ttftMs)}`,
    `total ${seconds(message.totalMs)}`,
  ].filter(Boolean);
  return (
    <p className="mt-1 flex flex-wrap gap-x-1.5 text-xs text-zinc-500 dark:text-zinc-400" data-testid="usage">
      {parts.map((part, index) => (
        <span key={part} className="whitespace-nowrap">
          {index > 0 ? "· " : ""}
          {part}
        </span>
      ))}
    </p>
  );
}

const TIME_OF_DAY: Intl.DateTimeFormatOptions = { hour: "2-digit", minute: "2-digit" };
const FULL_DATE: Intl.DateTimeFormatOptions = { dateStyle: "full", timeStyle: "short" };

/**
 * Time of day, the full date on hover. The server does not know the reader's time zone, so the
 * server render (and the first browser render, which must match it) says UTC; once the script runs
 * it switches to the reader's own clock.
 */
function MessageTime({ at }: { at: Date | string }) {
  const hydrated = useHydrated();
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) return null;
  const zone = hydrated ? {} : { timeZone: "UTC" };
  const locale = hydrated ? undefined : "en-GB";
  return (
    <time
      dateTime={date.toISOString()}
      title={date.toLocaleString(locale, { ...FULL_DATE, ...zone })}
      className="text-xs text-zinc-500 dark:text-zinc-400"
    >
      {date.toLocaleTimeString(locale, { ...TIME_OF_DAY, ...zone })}
      {hydrated ? "" : " UTC"}
    </time>
  );
}

const ACTION_BUTTON =
  "inline-flex items-center gap-1 rounded px-2 py-1 text-xs text-zinc-600 hover:bg-zinc-100 hover:text-zinc-900 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-zinc-400 dark:hover:bg-zinc-800 dark:hover:text-zinc-100";

/** Copies a message's Markdown source; drawn only once the copy listener runs (see MessageList). */
function CopyMessageButton({ messageId }: { messageId: string }) {
  const hydrated = useHydrated();
  if (!hydrated) return null;
  return (
    <button type="button" className={ACTION_BUTTON} data-copy="message" data-message-id={messageId}>
      <CopyIcon />
      <span data-copy-label="">Copy</span>
    </button>
  );
}

/** A failed reply in words, with Ollama's own text one click away for whoever reads the logs. */
function ReplyError({ error }: { error: string | null }) {
  const view = describeReplyError(error);
  return (
    <div
      role="alert"
      className="mt-2 rounded-lg border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-900 dark:border-red-900 dark:bg-red-950 dark:text-red-100"
      data-testid="reply-error"
      data-kind={view.kind}
    >
      <p className="font-medium">{view.sentence}</p>
      <p className="mt-0.5">{view.advice}</p>
      {error ? (
        <details className="mt-1">
          <summary className="cursor-pointer text-xs text-red-800 select-none dark:text-red-200">
            Details
          </summary>
          <p
            className="mt-1 font-mono text-xs break-words whitespace-pre-wrap text-red-800 dark:text-red-200"
            data-testid="reply-error-detail"
          >
            {error}
          </p>
        </details>
      ) : null}
    </div>
  );
}

// The Markdown renderer (Streamdown) is the heaviest script on the page; only a reply that is still
// streaming needs it in the browser, finished ones come drawn from the server.
const LiveMarkdown = lazy(() => import("../markdown").then((module) => ({ default: module.Markdown })));

function AssistantMessage({
  chatId,
  message,
  isLast,
  modelLabel,
}: {
  chatId: string;
  message: MessageView;
  isLast: boolean;
  modelLabel: string | null;
}) {
  const streaming = message.status === "streaming";
  const live = useLiveText(chatId, message.id, streaming);
  const text = streaming ? live.text : message.content;
  const thinking = streaming ? live.thinking : (message.thinking ?? "");
  // Only a reply written while this page is open is a live region: past replies would be read out
  // again whenever the page changes them (their local time and Copy button appear on hydration).
  const writtenHere = useRef(false);
  if (streaming) writtenHere.current = true;
  return (
    <article
      className="min-w-0"
      data-testid="assistant-message"
      data-status={message.status}
      aria-label={`${modelLabel ?? "Assistant"} said`}
      // Screen readers hear the reply once it is written (busy while it streams), not every word.
      aria-live={writtenHere.current ? "polite" : undefined}
      aria-busy={streaming}
    >
      <header className="mb-1 flex items-center gap-2">
        <span
          aria-hidden="true"
          className="flex size-6 items-center justify-center rounded-full bg-indigo-100 text-indigo-700 dark:bg-indigo-950 dark:text-indigo-300"
        >
          <ModelIcon />
        </span>
        <span className="text-sm font-medium" data-testid="role-label">
          {modelLabel ?? "Assistant"}
        </span>
        <MessageTime at={message.createdAt} />
      </header>
      {thinking ? (
        <ThinkingBlock thinking={thinking} ms={message.thinkingMs} active={streaming && !text} />
      ) : null}
      {streaming ? (
        text ? (
          <Suspense fallback={<p className="break-words whitespace-pre-wrap">{text}</p>}>
            <LiveMarkdown text={text} streaming />
          </Suspense>
        ) : thinking ? null : (
          <p className="animate-pulse text-zinc-500 dark:text-zinc-400">Thinking…</p>
        )
      ) : message.html ? (
        // Drawn by app/server/chat/markdown.server.tsx with the same sanitizing Markdown component.
        // biome-ignore lint/security/noDangerouslySetInnerHtml: sanitized server-side render of the reply
        <div className="min-w-0" dangerouslySetInnerHTML={{ __html: message.html }} />
      ) : null}
      {message.status === "stopped" ? (
        <p className="mt-1 text-xs font-medium text-zinc-500 dark:text-zinc-400" data-testid="stopped-note">
          Stopped
        </p>
      ) : null}
      {message.status === "failed" ? <ReplyError error={message.error} /> : null}
      <div className="mt-1 flex min-h-6 flex-wrap items-center gap-1" data-testid="message-actions">
        {streaming ? (
          <Form method="post">
            <input type="hidden" name="intent" value="stop" />
            <input type="hidden" name="messageId" value={message.id} />
            <button type="submit" className={ACTION_BUTTON} aria-keyshortcuts="Escape" title="Stop (Esc)">
              <StopIcon />
              Stop
            </button>
          </Form>
        ) : (
          <>
            {message.content ? <CopyMessageButton messageId={message.id} /> : null}
            {isLast ? (
              <Form method="post">
                <input type="hidden" name="intent" value="regenerate" />
                <WaitForReplyInput />
                <button type="submit" className={ACTION_BUTTON}>
                  <RegenerateIcon />
                  {message.status === "failed" ? "Retry" : "Regenerate"}
                </button>
              </Form>
            ) : null}
          </>
        )}
      </div>
      <Usage message={message} modelLabel={modelLabel} />
    </article>
  );
}

/**
 * Every copy button of the list (the reply's own, and the code blocks' that come inside server-drawn
 * HTML) is served by one listener on the list, so the server HTML needs no React handlers. The list
 * is marked data-copy-ready once it listens, which is what shows the code blocks' buttons.
 */
function useCopyButtons(messages: MessageView[]) {
  const list = useRef<HTMLOListElement>(null);
  const [ready, setReady] = useState(false);
  const [announcement, setAnnouncement] = useState("");
  const byId = useRef(messages);
  byId.current = messages;
  useEffect(() => {
    const element = list.current;
    if (!element) return;
    const timers = new Set<ReturnType<typeof setTimeout>>();
    const onClick = async (event: MouseEvent) => {
      const button = (event.target as Element | null)?.closest<HTMLButtonElement>("button[data-copy]");
      if (!button || !element.contains(button)) return;
      const text =
        button.dataset.copy === "code"
          ? (button.closest("[data-code-block]")?.querySelector("code")?.textContent ?? "")
          : (byId.current.find((message) => message.id === button.dataset.messageId)?.content ?? "");
      const copied = await copyToClipboard(text);
      const label = button.querySelector("[data-copy-label]");
      if (label) label.textContent = copied ? "Copied" : "Copy failed";
      // Cleared first, so copying twice in a row is announced twice.
      setAnnouncement("");
      setTimeout(() => setAnnouncement(copied ? "Copied to the clipboard" : "Could not copy"), 50);
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (label) label.textContent = "Copy";
      }, 2000);
      timers.add(timer);
    };
    element.addEventListener("click", onClick);
    setReady(true);
    return () => {
      element.removeEventListener("click", onClick);
      for (const timer of timers) clearTimeout(timer);
    };
  }, []);
  return { list, ready, announcement };
}

async function copyToClipboard(text: string) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // No Clipboard API (a plain-HTTP origin other than localhost): the older way still works there.
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.append(area);
    area.select();
    const copied = document.execCommand("copy");
    area.remove();
    return copied;
  }
}

/**
 * With JavaScript, older messages load by themselves when the top of the list scrolls into view
 * (the chat opens at its latest message: ScrollPane)
 * (the "Load older messages" link is the no-JavaScript way). The scroll position is kept, so the
 * message being read does not jump.
 */
function useOlderMessages(chatId: string, firstCursor: string | null) {
  const fetcher = useFetcher<{ messages: MessageView[]; olderCursor: string | null }>();
  const [older, setOlder] = useState<MessageView[]>([]);
  const [cursor, setCursor] = useState(firstCursor);
  const sentinel = useRef<HTMLLIElement>(null);
  const heightBefore = useRef<number | null>(null);

  // The latest page moved (a new message): start over from the loader's cursor, so loaded older
  // pages never overlap it. (A different chat remounts the list: it is keyed by chat id.)
  useEffect(() => {
    setOlder([]);
    setCursor(firstCursor);
  }, [firstCursor]);

  const handled = useRef<unknown>(null);
  useEffect(() => {
    const page = fetcher.data;
    if (!page || fetcher.state !== "idle" || handled.current === page) return;
    handled.current = page;
    heightBefore.current = scrollPane()?.scrollHeight ?? null;
    setOlder((previous) => {
      const known = new Set(previous.map((message) => message.id));
      return [...page.messages.filter((message) => !known.has(message.id)), ...previous];
    });
    setCursor(page.olderCursor);
  }, [fetcher.data, fetcher.state]);

  useLayoutEffect(() => {
    const pane = scrollPane();
    if (heightBefore.current === null || !pane) return;
    pane.scrollBy(0, pane.scrollHeight - heightBefore.current);
    heightBefore.current = null;
  });

  const load = fetcher.load;
  const loading = fetcher.state !== "idle";
  useEffect(() => {
    const element = sentinel.current;
    if (!element || !cursor || loading) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) void load(`/chat/${chatId}?before=${cursor}`);
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [chatId, cursor, loading, load]);

  return { older, cursor, sentinel };
}

export function MessageList({
  chatId,
  messages: latest,
  olderCursor,
  editing,
  modelLabels = {},
}: {
  chatId: string;
  messages: MessageView[];
  olderCursor: string | null;
  editing: boolean;
  /** Display names by model name, where an administrator gave one. */
  modelLabels?: Record<string, string>;
}) {
  const { older, cursor, sentinel } = useOlderMessages(chatId, olderCursor);
  const messages = older.length ? [...older, ...latest] : latest;
  const { list, ready, announcement } = useCopyButtons(messages);
  const lastUserIndex = messages.findLastIndex((message) => message.role === "user");
  const replying = messages.some((message) => message.status === "streaming");
  return (
    <>
      <ol
        ref={list}
        className="flex min-w-0 flex-col gap-6"
        data-testid="messages"
        data-copy-ready={ready ? "" : undefined}
      >
        {cursor ? (
          <li className="text-center" ref={sentinel}>
            <Link
              to={`?before=${cursor}`}
              className="text-sm text-indigo-600 underline dark:text-indigo-400"
              data-testid="load-older"
            >
              Load older messages
            </Link>
          </li>
        ) : null}
        {messages.map((message, index) => (
          <li key={message.id} id={`m${message.id}`} className="min-w-0">
            {message.role === "user" ? (
              <article className="flex min-w-0 flex-col items-end" aria-label="You said">
                <header className="mb-1 flex items-center gap-2">
                  <span className="text-sm font-medium" data-testid="role-label">
                    You
                  </span>
                  <MessageTime at={message.createdAt} />
                </header>
                <div
                  className="max-w-[85%] min-w-0 rounded-2xl bg-zinc-100 px-4 py-2 dark:bg-zinc-800"
                  data-testid="user-message"
                >
                  {editing && index === lastUserIndex ? (
                    <Form method="post" className="flex flex-col gap-2">
                      <input type="hidden" name="intent" value="edit" />
                      <WaitForReplyInput />
                      <textarea
                        name="content"
                        defaultValue={message.content}
                        rows={3}
                        aria-label="Edit message"
                        className="w-full min-w-[16rem] rounded border border-zinc-300 bg-white px-2 py-1 max-sm:min-w-0 dark:border-zinc-700 dark:bg-zinc-900"
                      />
                      <div className="flex gap-2">
                        <button type="submit" className="rounded bg-indigo-600 px-3 py-1 text-sm text-white">
                          Save and resend
                        </button>
                        <Link to="." className="px-3 py-1 text-sm">
                          Cancel
                        </Link>
                      </div>
                    </Form>
                  ) : (
                    <>
                      <MessageImages chatId={chatId} images={message.images} />
                      <p className="break-words whitespace-pre-wrap">{message.content}</p>
                    </>
                  )}
                </div>
                {editing && index === lastUserIndex ? null : (
                  <div
                    className="mt-1 flex min-h-6 flex-wrap items-center gap-1"
                    data-testid="message-actions"
                  >
                    <CopyMessageButton messageId={message.id} />
                    {/* Only the last question can be edited: the reply after it is then redone. */}
                    {index === lastUserIndex && !replying ? (
                      <Link to="?edit=1" className={ACTION_BUTTON}>
                        <EditIcon />
                        Edit
                      </Link>
                    ) : null}
                  </div>
                )}
              </article>
            ) : (
              <AssistantMessage
                chatId={chatId}
                message={message}
                isLast={index === messages.length - 1}
                modelLabel={message.model ? (modelLabels[message.model] ?? message.model) : null}
              />
            )}
          </li>
        ))}
      </ol>
      <p role="status" aria-live="polite" className="sr-only" data-testid="copy-status">
        {announcement}
      </p>
    </>
  );
}
