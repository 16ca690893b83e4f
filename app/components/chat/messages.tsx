import { useEffect, useLayoutEffect, useRef, useState } from "react";
import { Form, Link, useFetcher, useRevalidator } from "react-router";
import { Markdown } from "../markdown";
import { MessageImages, type MessageImageView } from "./message-images";
import { WaitForReplyInput } from "./use-hydrated";

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

function Usage({ message }: { message: MessageView }) {
  if (message.completionTokens === null) return null;
  const seconds = (ms: number | null) => (ms === null ? "–" : `${(ms / 1000).toFixed(2)} s`);
  return (
    <p className="mt-1 text-xs text-zinc-500" data-testid="usage">
      {`${message.model} · ${message.promptTokens} prompt + ${message.completionTokens} completion tokens · first token ${seconds(message.ttftMs)} · total ${seconds(message.totalMs)}`}
    </p>
  );
}

function AssistantMessage({
  chatId,
  message,
  isLast,
}: {
  chatId: string;
  message: MessageView;
  isLast: boolean;
}) {
  const streaming = message.status === "streaming";
  const live = useLiveText(chatId, message.id, streaming);
  const text = streaming ? live.text : message.content;
  const thinking = streaming ? live.thinking : (message.thinking ?? "");
  return (
    <div data-testid="assistant-message" data-status={message.status}>
      {thinking ? (
        <ThinkingBlock thinking={thinking} ms={message.thinkingMs} active={streaming && !text} />
      ) : null}
      {text ? (
        <Markdown text={text} streaming={streaming} />
      ) : streaming && !thinking ? (
        <p className="animate-pulse text-zinc-500">Thinking…</p>
      ) : null}
      {message.status === "stopped" ? (
        <p className="mt-1 text-xs font-medium text-zinc-500" data-testid="stopped-note">
          Stopped
        </p>
      ) : null}
      {message.status === "failed" ? (
        <div
          role="alert"
          className="mt-2 rounded border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-900 dark:bg-red-950 dark:text-red-200"
          data-testid="reply-error"
        >
          {message.error ?? "The reply failed."}
        </div>
      ) : null}
      <div className="mt-1 flex items-center gap-3">
        {streaming ? (
          <Form method="post">
            <input type="hidden" name="intent" value="stop" />
            <input type="hidden" name="messageId" value={message.id} />
            <button
              type="submit"
              className="rounded border border-zinc-300 px-3 py-1 text-sm dark:border-zinc-700"
            >
              Stop
            </button>
          </Form>
        ) : isLast ? (
          <Form method="post">
            <input type="hidden" name="intent" value="regenerate" />
            <WaitForReplyInput />
            <button
              type="submit"
              className="rounded border border-zinc-300 px-3 py-1 text-sm dark:border-zinc-700"
            >
              {message.status === "failed" ? "Retry" : "Regenerate"}
            </button>
          </Form>
        ) : null}
      </div>
      <Usage message={message} />
    </div>
  );
}

/**
 * A chat opens at its latest message, as chat apps do, unless the URL names a message (#m<id>,
 * from search or after a no-JavaScript send). Runs before useOlderMessages' observer starts, so
 * opening a long chat does not load older pages that nobody scrolled up to. (A passive effect, so
 * it comes after React Router's scroll restoration, which would put a new page at the top.)
 */
function useOpenAtLatest() {
  // On mount only: the list is keyed by chat id, so another chat mounts it afresh.
  useEffect(() => {
    if (!window.location.hash) window.scrollTo(0, document.documentElement.scrollHeight);
  }, []);
}

/**
 * With JavaScript, older messages load by themselves when the top of the list scrolls into view
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
    heightBefore.current = document.documentElement.scrollHeight;
    setOlder((previous) => {
      const known = new Set(previous.map((message) => message.id));
      return [...page.messages.filter((message) => !known.has(message.id)), ...previous];
    });
    setCursor(page.olderCursor);
  }, [fetcher.data, fetcher.state]);

  useLayoutEffect(() => {
    if (heightBefore.current === null) return;
    window.scrollBy(0, document.documentElement.scrollHeight - heightBefore.current);
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
}: {
  chatId: string;
  messages: MessageView[];
  olderCursor: string | null;
  editing: boolean;
}) {
  useOpenAtLatest();
  const { older, cursor, sentinel } = useOlderMessages(chatId, olderCursor);
  const messages = older.length ? [...older, ...latest] : latest;
  const lastUserIndex = messages.findLastIndex((message) => message.role === "user");
  const replying = messages.some((message) => message.status === "streaming");
  return (
    <ol className="flex flex-col gap-6" data-testid="messages">
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
        <li key={message.id} id={`m${message.id}`}>
          {message.role === "user" ? (
            <div
              className="ml-auto max-w-[85%] rounded-lg bg-zinc-100 px-4 py-2 dark:bg-zinc-800"
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
                    className="w-full rounded border border-zinc-300 bg-white px-2 py-1 dark:border-zinc-700 dark:bg-zinc-900"
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
                  <p className="whitespace-pre-wrap">{message.content}</p>
                  {index === lastUserIndex && !replying ? (
                    <Link to="?edit=1" className="mt-1 block text-xs text-zinc-500 underline">
                      Edit
                    </Link>
                  ) : null}
                </>
              )}
            </div>
          ) : (
            <AssistantMessage chatId={chatId} message={message} isLast={index === messages.length - 1} />
          )}
        </li>
      ))}
    </ol>
  );
}
