import { useEffect, useRef } from "react";
import { Form, Link, useNavigation } from "react-router";
import { MAX_MESSAGE_CHARS } from "~/lib/chat-schemas";
import type { PickerModel } from "~/server/chat/models.server";
import { Attachments } from "./attachments";
import { WaitForReplyInput } from "./use-hydrated";

function formatSize(bytes: number) {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${Math.round(bytes / 1e6)} MB`;
}

export function ModelPicker({ models, value }: { models: PickerModel[]; value?: string }) {
  return (
    <label className="flex items-center gap-2 text-sm">
      <span className="text-zinc-600 dark:text-zinc-400">Model</span>
      <select
        name="model"
        defaultValue={value}
        className="rounded border border-zinc-300 bg-white px-2 py-1 dark:border-zinc-700 dark:bg-zinc-900"
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
 * The message box. A plain form: without JavaScript the server waits for the whole reply and
 * redirects back (wait=1); with JavaScript it answers at once and the reply streams in (wait=0).
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
    // Clear the box once a send has gone through without an error.
    if (wasSending.current && !sending && !error) formRef.current?.reset();
    wasSending.current = sending;
  }, [sending, error]);

  return (
    <Form
      method="post"
      encType="multipart/form-data"
      ref={formRef}
      className="flex flex-col gap-2"
      data-testid="composer"
    >
      <input type="hidden" name="intent" value="send" />
      <WaitForReplyInput />
      {children}
      <textarea
        name="content"
        required
        rows={3}
        maxLength={MAX_MESSAGE_CHARS}
        aria-label="Message"
        placeholder="Send a message"
        aria-invalid={error ? true : undefined}
        className="w-full rounded border border-zinc-300 bg-white px-3 py-2 dark:border-zinc-700 dark:bg-zinc-900"
        onKeyDown={(event) => {
          if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
            event.preventDefault();
            event.currentTarget.form?.requestSubmit();
          }
        }}
      />
      <Attachments />
      {error ? (
        <p role="alert" className="text-sm text-red-600 dark:text-red-400" data-testid="composer-error">
          {error}
        </p>
      ) : null}
      <div className="flex flex-wrap items-center justify-between gap-2">
        {models.length > 0 ? <ModelPicker models={models} value={model} /> : <span />}
        <button
          type="submit"
          disabled={disabled || sending}
          className="rounded bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-500 disabled:opacity-60"
        >
          Send
        </button>
      </div>
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
      {problem === "unreachable"
        ? "Ollama is not reachable right now, so there are no models to chat with."
        : "No models are available yet."}{" "}
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
    </div>
  );
}
