import { useEffect, useLayoutEffect, useRef, useState } from "react";
import { useHydrated } from "./use-hydrated";

/** The id of the conversation's scrolling pane; messages.tsx keeps its position when older pages load. */
export const CHAT_SCROLL_ID = "chat-scroll";

const jumpClass =
  "absolute bottom-3 left-1/2 -translate-x-1/2 rounded-full border border-zinc-300 bg-white px-3 py-1 text-sm shadow dark:border-zinc-700 dark:bg-zinc-900";

/** Within this many pixels of the end counts as "at the latest message". */
const NEAR_END_PX = 48;

function nearEnd(pane: HTMLElement) {
  return pane.scrollHeight - pane.scrollTop - pane.clientHeight <= NEAR_END_PX;
}

/**
 * The conversation scrolls inside this pane, so the header and the composer stay where they are.
 * While a reply grows the pane follows it, as long as the reader is at the end; scrolling up stops
 * following and shows "Jump to latest", which scrolls back down and follows again. A new message
 * (`latestId` changes: the user sent one) always brings the end into view.
 * Without JavaScript the pane is an ordinary scroll box and "Jump to latest" is a link to its end.
 */
export function ScrollPane({
  latestId,
  children,
}: {
  latestId: string | undefined;
  children: React.ReactNode;
}) {
  const pane = useRef<HTMLDivElement>(null);
  const content = useRef<HTMLDivElement>(null);
  const following = useRef(true);
  const lastTop = useRef(0);
  const [atEnd, setAtEnd] = useState(true);
  const hydrated = useHydrated();

  const scrollToEnd = (behavior: ScrollBehavior = "instant") => {
    following.current = true;
    pane.current?.scrollTo({ top: pane.current.scrollHeight, behavior });
  };

  // Follow the content as it grows (streamed text, a Thinking block opening, images loading).
  useEffect(() => {
    const element = content.current;
    if (!element) return;
    const observer = new ResizeObserver(() => {
      if (following.current && pane.current) pane.current.scrollTop = pane.current.scrollHeight;
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  const opened = useRef(false);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new latest message is the trigger
  useLayoutEffect(() => {
    if (!opened.current) {
      opened.current = true;
      // Opened at a named message (#m123, from search): the browser scrolls to it; stay there.
      if (window.location.hash.startsWith("#m")) {
        following.current = false;
        return;
      }
    }
    scrollToEnd();
  }, [latestId]);

  return (
    <div className="relative flex min-h-0 flex-1 flex-col">
      <div
        ref={pane}
        id={CHAT_SCROLL_ID}
        className="min-h-0 flex-1 overflow-y-auto overscroll-contain"
        onScroll={(event) => {
          // Only the reader scrolling up stops following: the text growing between our scroll and
          // this event also leaves the end out of reach, but the position did not go up.
          const { scrollTop } = event.currentTarget;
          const end = nearEnd(event.currentTarget);
          if (end) following.current = true;
          else if (scrollTop < lastTop.current) following.current = false;
          lastTop.current = scrollTop;
          setAtEnd(end || following.current);
        }}
      >
        <div ref={content} className="mx-auto w-full max-w-3xl px-4 py-6">
          {children}
          <div id="latest" />
        </div>
      </div>
      {hydrated ? (
        atEnd ? null : (
          <button
            type="button"
            onClick={() => scrollToEnd("smooth")}
            className={jumpClass}
            data-testid="jump-to-latest"
          >
            ↓ Jump to latest
          </button>
        )
      ) : (
        <a href="#latest" className={`${jumpClass} sr-only focus:not-sr-only`}>
          Jump to latest
        </a>
      )}
    </div>
  );
}
