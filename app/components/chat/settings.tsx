import { Form } from "react-router";
import type { ChatParams } from "~/lib/chat-schemas";

type ParamName = keyof ChatParams;

const FIELDS: Array<{ name: ParamName; label: string; step: string; hint: string }> = [
  { name: "temperature", label: "Temperature", step: "0.05", hint: "0–2; higher is more varied" },
  { name: "topP", label: "Top P", step: "0.05", hint: "0–1" },
  { name: "numCtx", label: "Context length", step: "1", hint: "tokens" },
  { name: "seed", label: "Seed", step: "1", hint: "same seed, same answer" },
  { name: "numPredict", label: "Max tokens", step: "1", hint: "longest reply" },
];

/**
 * The chat's generation parameters and, for reasoning models, the thinking switch. Plain forms:
 * they post and redirect without JavaScript. Empty fields mean the model's default, shown beside.
 */
export function ChatSettings({
  think,
  params,
  settings,
  error,
}: {
  think: boolean;
  params: ChatParams;
  settings: { canThink: boolean; maxContext: number; defaults: Record<ParamName, string> };
  error?: string;
}) {
  const setCount = Object.values(params).filter((value) => value !== undefined).length;
  return (
    <div className="flex flex-col gap-2 text-sm">
      {settings.canThink ? (
        <Form method="post" className="flex flex-wrap items-center gap-2" data-testid="think-switch">
          <input type="hidden" name="intent" value="think" />
          <span className="text-zinc-600 dark:text-zinc-400">
            Thinking is <strong className="font-medium">{think ? "on" : "off"}</strong> for this chat
          </span>
          <button
            type="submit"
            name="think"
            value={think ? "off" : "on"}
            className="rounded border border-zinc-300 px-2 py-0.5 dark:border-zinc-700"
          >
            {think ? "Turn thinking off" : "Turn thinking on"}
          </button>
        </Form>
      ) : null}
      <details open={Boolean(error)} data-testid="chat-params">
        <summary className="cursor-pointer text-zinc-600 dark:text-zinc-400">
          {`Parameters${setCount ? ` (${setCount} set)` : ""}`}
        </summary>
        <Form method="post" className="mt-2 flex flex-col gap-3" noValidate>
          <input type="hidden" name="intent" value="params" />
          {error ? (
            <p
              role="alert"
              className="rounded border border-red-300 bg-red-50 px-3 py-2 text-red-800 dark:border-red-900 dark:bg-red-950 dark:text-red-200"
              data-testid="params-error"
            >
              {error}
            </p>
          ) : null}
          <div className="grid grid-cols-2 gap-3 lg:grid-cols-3">
            {FIELDS.map((field) => (
              <label key={field.name} className="flex flex-col gap-1">
                <span className="font-medium">{field.label}</span>
                <input
                  name={field.name}
                  type="number"
                  step={field.step}
                  inputMode="decimal"
                  defaultValue={params[field.name] ?? ""}
                  placeholder={settings.defaults[field.name]}
                  className="rounded border border-zinc-300 px-2 py-1 dark:border-zinc-700 dark:bg-zinc-900"
                />
                <span className="text-xs text-zinc-500 dark:text-zinc-400">
                  Default: {settings.defaults[field.name]} · {field.hint}
                  {field.name === "numCtx"
                    ? ` (at most ${settings.maxContext.toLocaleString("en")} here)`
                    : ""}
                </span>
              </label>
            ))}
          </div>
          <p className="text-xs text-zinc-500 dark:text-zinc-400">
            Leave a field empty to use the model's default.
          </p>
          <button
            type="submit"
            className="self-start rounded border border-zinc-300 px-3 py-1 dark:border-zinc-700"
          >
            Save parameters
          </button>
        </Form>
      </details>
    </div>
  );
}
