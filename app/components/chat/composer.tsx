import { useEffect, useRef } from "react";
import { Form, Link, useNavigation } from "react-router";
import { MAX_MESSAGE_CHARS } from "~/lib/chat-limits";
import type { PickerModel } from "~/server/chat/models.server";
import { Attachments } from "./attachments";
import { WaitForReplyInput } from "./use-hydrated";

function formatSize(bytes: number) {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${Math.round(bytes / 1e6)} MB`;
}

export function ModelPicker({ models, value }: { models: PickerModel[]; value?: string }) {
  return (
    <label className="flex min-w-0 flex-1 items-center gap-2 text-sm">
      <span className="sr-only">Model</span>
      <select
        name="model"
        defaultValue={value}
        className="w-full max-w-xs min-w-0 truncate rounded-lg border border-zinc-200 bg-white px-2 py-1 text-zinc-700 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-300"
      >
        {models.map((model) => (
          <option key={model.name} value={model.name}>
            {[
              model.displayName ?? model.name,
              model.parameterSize,
              model.quantization,
              formatSize(model.size),
            ]
              .filter(Boolean)
              .join(" · ")}
          </option>
        ))}
      </select>
    </label>
  );
}

/**
 * Set when a message is sent, so that the composer of the page the send leads to (the new chat's
 * own page, after the new-chat page) takes the focus the sending one had.
 */
let focusNextComposer = false;

/** The composer's form id: starter prompts on the new-chat page submit it from outside. */
export const COMPOSER_FORM_ID = "composer";

/**
 * The message box. A plain form: without JavaScript the server waits for the whole reply and
 * redirects back (wait=1); with JavaScript it answers at once and the reply streams in (wait=0).
 * Enter sends, Shift+Enter starts a new line; after a send the box is cleared and keeps the focus.
 */
export function Composer({
  models,
  model,
  error,
  disabled,
  children,
}: {
  models: PickerModel[];
  model?: string;
  error?: string;
  disabled?: boolean;
  children?: React.ReactNode;
}) {
  const navigation = useNavigation();
  const sending = navigation.state !== "idle" && navigation.formData?.get("intent") === "send";
  const formRef = useRef<HTMLFormElement>(null);
  const wasSending = useRef(false);
  useEffect(() => {
    // Clear the box once a send has gone through without an error, and keep typing where you were.
    if (wasSending.current && !sending && !error) {
      formRef.current?.reset();
      formRef.current?.querySelector("textarea")?.focus();
      focusNextComposer = false;
    }
    wasSending.current = sending;
  }, [sending, error]);
  useEffect(() => {
    // Sent from the new-chat page: that composer is gone with the page, and the focus with it.
    if (focusNextComposer && (document.activeElement === null || document.activeElement === document.body)) {
      formRef.current?.querySelector("textarea")?.focus();
    }
    focusNextComposer = false;
  }, []);

  return (
    <Form
      method="post"
      encType="multipart/form-data"
      ref={formRef}
      id={COMPOSER_FORM_ID}
      onSubmit={() => {
        focusNextComposer = true;
      }}
      className="flex flex-col gap-2"
      data-testid="composer"
    >
      <input type="hidden" name="intent" value="send" />
      <WaitForReplyInput />
      {children}
      <div className="rounded-xl border border-zinc-300 bg-white shadow-sm focus-within:border-indigo-500 focus-within:ring-1 focus-within:ring-indigo-500 dark:border-zinc-700 dark:bg-zinc-900">
        <textarea
          name="content"
          required
          rows={2}
          maxLength={MAX_MESSAGE_CHARS}
          aria-label="Message"
          placeholder="Send a message (Shift+Enter for a new line)"
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? "composer-error" : undefined}
          className="block max-h-60 min-h-[3.5rem] w-full resize-none bg-transparent px-3 pt-2.5 pb-1 outline-none [field-sizing:content]"
          onKeyDown={(event) => {
            if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
              event.preventDefault();
              event.currentTarget.form?.requestSubmit();
            }
          }}
        />
        <div className="px-2">
          <Attachments />
        </div>
        <div className="flex flex-wrap items-center justify-between gap-2 px-2 pb-2">
          {models.length > 0 ? <ModelPicker models={models} value={model} /> : <span />}
          <button
            type="submit"
            disabled={disabled || sending}
            className="rounded-lg bg-indigo-600 px-4 py-1.5 font-medium text-white hover:bg-indigo-500 disabled:opacity-60"
          >
            Send
          </button>
        </div>
      </div>
      {error ? (
        <p
          role="alert"
          id="composer-error"
          className="text-sm text-red-700 dark:text-red-400"
          data-testid="composer-error"
        >
          {error}
        </p>
      ) : null}
    </Form>
  );
}

export function ModelProblem({ problem, isAdmin }: { problem: "unreachable" | "empty"; isAdmin: boolean }) {
  return (
    <div
      role="alert"
      className="rounded border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100"
      data-testid="model-problem"
    >
      {problem === "unreachable" ? (
        // Nothing to pull while the server itself cannot be reached: say what to check instead.
        <>
          Ollama is not reachable right now, so there are no models to chat with.{" "}
          {isAdmin
            ? "Check that Ollama is running and that OLLAMA_URL points at it; this page works again as soon as it answers."
            : "Try again in a moment, or tell an administrator if it lasts."}
        </>
      ) : (
        <>
          No models are available yet.{" "}
          {isAdmin ? (
            <>
              Pull one (or show a hidden one) on{" "}
              <Link to="/admin/models" className="underline">
                Administration → Models
              </Link>
              ; it appears here as soon as it is ready.
            </>
          ) : (
            "Ask an administrator to add one."
          )}
        </>
      )}
    </div>
  );
}
