import { useEffect, useRef, useState } from "react";
import { Form, useRevalidator } from "react-router";
import { useHydrated } from "~/components/chat/use-hydrated";
import { formatBytes, formatDuration } from "~/lib/model-schemas";
import type { PullState } from "~/server/models/pulls.server";

/** /admin/models/<name>, each path segment escaped (names hold "/" and ":"). */
export function modelPath(name: string) {
  return `/admin/models/${name.split("/").map(encodeURIComponent).join("/")}`;
}

export function Badge({ tone, children }: { tone: "indigo" | "zinc"; children: React.ReactNode }) {
  const colours =
    tone === "indigo"
      ? "bg-indigo-100 text-indigo-800 dark:bg-indigo-950 dark:text-indigo-200"
      : "bg-zinc-200 text-zinc-800 dark:bg-zinc-800 dark:text-zinc-200";
  return <span className={`whitespace-nowrap rounded px-1.5 py-0.5 text-xs ${colours}`}>{children}</span>;
}

/** UTC, so the server's render and the browser's agree (no hydration mismatch). */
export function formatDate(iso: string) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

const BASE_TITLE = "Models · Administration · CustomChatAI";

/**
 * The live state of a running pull, from the server's SSE stream (any replica can serve it). Starts
 * from what the page was rendered with, so without JavaScript the card shows that state as is.
 */
function useLivePull(initial: PullState) {
  const hydrated = useHydrated();
  const revalidator = useRevalidator();
  // Read through a ref: the revalidator changes on each render, and the stream must not restart.
  const revalidate = useRef(revalidator.revalidate);
  revalidate.current = revalidator.revalidate;
  const [state, setState] = useState(initial);
  const running = state.status === "running";
  // A fresher state from the loader (after a form post) wins over an older streamed one.
  if (initial.updatedAt > state.updatedAt) setState(initial);
  useEffect(() => {
    if (!hydrated || initial.status !== "running") return;
    const source = new EventSource(`/admin/models/pull-events?name=${encodeURIComponent(initial.name)}`);
    source.onmessage = (event) => {
      const next = JSON.parse(event.data) as PullState;
      // A newer pull of the same model (started after this page was rendered) is not this card's.
      if (next.startedAt !== initial.startedAt) {
        source.close();
        revalidate.current();
        return;
      }
      setState(next);
      if (next.status !== "running") {
        source.close();
        // The installed list changes when a pull ends.
        revalidate.current();
      }
    };
    source.addEventListener("gone", () => {
      source.close();
      revalidate.current();
    });
    return () => source.close();
  }, [hydrated, initial.name, initial.startedAt, initial.status]);

  // The tab title shows how far the pull is, so it can be watched from another tab.
  useEffect(() => {
    if (!hydrated || !running) return;
    document.title = `${state.percent}% · ${BASE_TITLE}`;
  }, [hydrated, running, state.percent]);
  useEffect(() => {
    if (hydrated && !running && document.title !== BASE_TITLE && /^\d+% · /.test(document.title)) {
      document.title = BASE_TITLE;
    }
  }, [hydrated, running]);
  return state;
}

export function PullCard({ initial }: { initial: PullState }) {
  const state = useLivePull(initial);
  const running = state.status === "running";
  const frame =
    state.status === "failed"
      ? "border-red-300 bg-red-50 dark:border-red-900 dark:bg-red-950"
      : state.status === "success"
        ? "border-emerald-300 bg-emerald-50 dark:border-emerald-900 dark:bg-emerald-950"
        : "border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900";
  return (
    <li
      className={`flex flex-col gap-2 rounded border p-3 text-sm ${frame}`}
      data-testid="pull"
      data-model={state.name}
      data-status={state.status}
    >
      <div className="flex flex-wrap items-center justify-between gap-2">
        <span className="break-all font-mono font-medium">{state.name}</span>
        <span className="text-zinc-600 dark:text-zinc-400" data-testid="pull-line">
          {state.status === "running"
            ? state.line
            : state.status === "success"
              ? "Pulled: it is now in every user's model list."
              : state.status === "cancelled"
                ? "Cancelled."
                : "Failed."}
        </span>
      </div>
      {running || state.status === "cancelled" ? (
        <>
          <div
            role="progressbar"
            aria-label={`Pulling ${state.name}`}
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={state.percent}
            className="h-2 w-full overflow-hidden rounded bg-zinc-200 dark:bg-zinc-800"
          >
            <div className="h-full bg-indigo-600 dark:bg-indigo-400" style={{ width: `${state.percent}%` }} />
          </div>
          <p className="text-zinc-700 dark:text-zinc-300" data-testid="pull-progress">
            <span data-testid="pull-percent">{state.percent}%</span>
            {state.total > 0 ? ` · ${formatBytes(state.completed)} of ${formatBytes(state.total)}` : ""}
            {running && state.bytesPerSecond ? ` · ${formatBytes(state.bytesPerSecond)}/s` : ""}
            {running && state.secondsLeft !== null ? ` · ${formatDuration(state.secondsLeft)} left` : ""}
          </p>
        </>
      ) : null}
      {state.status === "failed" && state.error ? (
        <p role="alert" className="text-red-800 dark:text-red-200" data-testid="pull-error">
          {state.error}
        </p>
      ) : null}
      <Form method="post" action="/admin/models" className="flex gap-2">
        <input type="hidden" name="name" value={state.name} />
        {running ? (
          <button
            type="submit"
            name="intent"
            value="cancel"
            className="rounded border border-zinc-300 px-3 py-1 dark:border-zinc-700"
          >
            Cancel pull
          </button>
        ) : (
          <button
            type="submit"
            name="intent"
            value="dismiss"
            className="rounded border border-zinc-300 px-3 py-1 dark:border-zinc-700"
          >
            Dismiss
          </button>
        )}
      </Form>
    </li>
  );
}
