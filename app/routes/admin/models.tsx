import { data, Form, Link, redirect, useNavigation } from "react-router";
import { Badge, formatDate, modelPath, PullCard } from "~/components/admin/models";
import { useHydrated } from "~/components/chat/use-hydrated";
import { formatBytes, modelNameInputSchema } from "~/lib/model-schemas";
import { recordAuditEvent } from "~/server/admin/audit.server";
import { requireAdminAction, requireAdminPage } from "~/server/admin/guard.server";
import { adminModels, chooseDefaultModel, ModelAdminError } from "~/server/models/admin.server";
import { cancelPull, dismissPull, startPull, waitForProgress } from "~/server/models/pulls.server";
import type { Route } from "./+types/models";

export const meta: Route.MetaFunction = ({ data }) => {
  const running = data?.pulls.find((pull) => pull.status === "running");
  return [{ title: `${running ? `${running.percent}% · ` : ""}Models · Administration · CustomChatAI` }];
};

export async function loader({ request }: Route.LoaderArgs) {
  await requireAdminPage(request);
  const deleted = new URL(request.url).searchParams.get("deleted");
  return { ...(await adminModels()), deleted: deleted ? deleted.slice(0, 200) : null };
}

type ActionResult = { error: string; field: "name" | "default" | "pull" };

export async function action({ request }: Route.ActionArgs) {
  const admin = await requireAdminAction(request);
  const form = await request.formData();
  const fail = (field: ActionResult["field"], error: string, status = 400) =>
    data<ActionResult>({ field, error }, { status });
  const intent = form.get("intent");

  if (intent === "default") {
    const value = String(form.get("model") ?? "");
    const model = value ? modelNameInputSchema.safeParse(value) : { success: true as const, data: null };
    if (!model.success) return fail("default", model.error.issues[0].message);
    try {
      await chooseDefaultModel(model.data);
    } catch (error) {
      if (error instanceof ModelAdminError) return fail("default", error.message, error.status);
      throw error;
    }
    await recordAuditEvent({
      actorId: admin.id,
      action: "model.default_changed",
      targetType: "setting",
      targetId: "chat.default_model",
      after: { model: model.data },
    });
    throw redirect("/admin/models");
  }

  const name = modelNameInputSchema.safeParse(form.get("name") ?? "");
  if (!name.success) return fail(intent === "pull" ? "name" : "pull", name.error.issues[0].message);
  switch (intent) {
    case "pull": {
      const { joined } = await startPull(name.data);
      // Joining a pull that is already running starts nothing.
      if (!joined) {
        await recordAuditEvent({
          actorId: admin.id,
          action: "model.pull_started",
          targetType: "model",
          targetId: name.data,
        });
      }
      // A page rendered at once would only say "pulling manifest"; a moment later it can already
      // show the first bytes, or an unknown model's error.
      await waitForProgress(name.data, 2000);
      throw redirect("/admin/models");
    }
    case "cancel": {
      const state = await cancelPull(name.data);
      if (!state) return fail("pull", `There is no pull of ${name.data}.`, 404);
      await recordAuditEvent({
        actorId: admin.id,
        action: "model.pull_cancelled",
        targetType: "model",
        targetId: name.data,
        before: { percent: Math.floor(state.percent) },
      });
      throw redirect("/admin/models");
    }
    case "dismiss": {
      await dismissPull(name.data);
      throw redirect("/admin/models");
    }
    default:
      return fail("pull", "Unknown action.");
  }
}

const cell = "py-2 pr-4 align-top";

export default function Models({ loaderData, actionData }: Route.ComponentProps) {
  const { models, problem, defaultModel, pulls, deleted } = loaderData;
  const navigation = useNavigation();
  const hydrated = useHydrated();
  const pulling = navigation.state !== "idle" && navigation.formData?.get("intent") === "pull";
  const visible = models.filter((model) => !model.hidden);
  const anyRunning = pulls.some((pull) => pull.status === "running");
  return (
    <div className="flex flex-col gap-8">
      <div>
        <h1 className="text-2xl font-semibold">Models</h1>
        <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
          The models installed in Ollama. Pull new ones, delete old ones, and choose what users see.
        </p>
      </div>

      {deleted ? (
        <p role="status" className="text-sm" data-testid="notice">
          Deleted {deleted}.
        </p>
      ) : null}

      <section className="flex flex-col gap-3" aria-labelledby="pull-heading">
        <h2 id="pull-heading" className="text-lg font-semibold">
          Pull a model
        </h2>
        <Form method="post" className="flex flex-col gap-2 sm:flex-row sm:items-start">
          <input type="hidden" name="intent" value="pull" />
          <div className="flex flex-1 flex-col gap-1">
            <label htmlFor="pull-name" className="sr-only">
              Model name
            </label>
            <input
              id="pull-name"
              name="name"
              required
              maxLength={200}
              placeholder="llama3.2:3b or hf.co/user/repo:Q4_K_M"
              aria-invalid={actionData?.field === "name" || undefined}
              aria-describedby={actionData?.field === "name" ? "pull-name-error" : undefined}
              className="w-full rounded border border-zinc-300 bg-white px-3 py-2 font-mono text-sm aria-invalid:border-red-500 dark:border-zinc-700 dark:bg-zinc-900"
            />
            {actionData?.field === "name" ? (
              <p
                id="pull-name-error"
                className="text-sm text-red-600 dark:text-red-400"
                data-testid="field-error"
              >
                {actionData.error}
              </p>
            ) : null}
          </div>
          <button
            type="submit"
            disabled={pulling}
            className="rounded bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-500 disabled:opacity-60"
          >
            Pull
          </button>
        </Form>
        <p className="text-xs text-zinc-500 dark:text-zinc-400">
          Names from ollama.com/library (<code>llama3.2:3b</code>) or Hugging Face (<code>hf.co/…</code>). The
          pull runs on the server: leaving this page does not stop it.
        </p>
        {actionData?.field === "pull" ? (
          <p role="alert" className="text-sm text-red-600 dark:text-red-400">
            {actionData.error}
          </p>
        ) : null}
        {pulls.length > 0 ? (
          <ul className="flex flex-col gap-3" data-testid="pulls">
            {pulls.map((pull) => (
              <PullCard key={`${pull.key}:${pull.startedAt}`} initial={pull} />
            ))}
          </ul>
        ) : null}
        {anyRunning && !hydrated ? (
          <p className="text-sm">
            <a href="/admin/models" className="text-indigo-700 underline dark:text-indigo-300">
              Refresh
            </a>{" "}
            to see the latest progress.
          </p>
        ) : null}
      </section>

      <section className="flex flex-col gap-3" aria-labelledby="default-heading">
        <h2 id="default-heading" className="text-lg font-semibold">
          Default model for new chats
        </h2>
        <Form method="post" className="flex flex-wrap items-center gap-2">
          <input type="hidden" name="intent" value="default" />
          <label htmlFor="default-model" className="sr-only">
            Default model
          </label>
          <select
            id="default-model"
            name="model"
            defaultValue={defaultModel ?? ""}
            key={defaultModel ?? ""}
            className="max-w-full rounded border border-zinc-300 bg-white px-2 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900"
          >
            <option value="">First installed model</option>
            {visible.map((model) => (
              <option key={model.name} value={model.name}>
                {model.displayName ? `${model.displayName} (${model.name})` : model.name}
              </option>
            ))}
          </select>
          <button
            type="submit"
            className="rounded bg-indigo-600 px-3 py-1.5 text-sm text-white hover:bg-indigo-500"
          >
            Save default
          </button>
        </Form>
        <p className="text-xs text-zinc-500 dark:text-zinc-400">
          Used until a user picks a model of their own. Hidden models cannot be the default.
        </p>
        {actionData?.field === "default" ? (
          <p role="alert" className="text-sm text-red-600 dark:text-red-400">
            {actionData.error}
          </p>
        ) : null}
      </section>

      <section className="flex flex-col gap-3" aria-labelledby="installed-heading">
        <h2 id="installed-heading" className="text-lg font-semibold">
          Installed ({models.length})
        </h2>
        {problem ? (
          <p
            role="alert"
            className="rounded border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100"
          >
            {problem}
          </p>
        ) : models.length === 0 ? (
          <p className="text-sm text-zinc-600 dark:text-zinc-400">No models installed yet. Pull one above.</p>
        ) : (
          <div className="overflow-x-auto">
            <table className="w-full min-w-[48rem] text-left text-sm" data-testid="models-table">
              <thead className="text-zinc-500 dark:text-zinc-400">
                <tr>
                  <th className="py-1 pr-4 font-medium">Model</th>
                  <th className="py-1 pr-4 font-medium">Family</th>
                  <th className="py-1 pr-4 font-medium">Parameters</th>
                  <th className="py-1 pr-4 font-medium">Quantisation</th>
                  <th className="py-1 pr-4 font-medium">Size</th>
                  <th className="py-1 pr-4 font-medium">Modified</th>
                  <th className="py-1 pr-4 font-medium">In memory</th>
                </tr>
              </thead>
              <tbody>
                {models.map((model) => (
                  <tr
                    key={model.name}
                    className="border-t border-zinc-200 dark:border-zinc-800"
                    data-testid="model-row"
                    data-model={model.name}
                  >
                    <td className={cell}>
                      <Link
                        to={modelPath(model.name)}
                        className="font-mono text-indigo-700 underline dark:text-indigo-300"
                      >
                        {model.name}
                      </Link>
                      {model.displayName ? (
                        <div className="text-zinc-600 dark:text-zinc-400">shown as “{model.displayName}”</div>
                      ) : null}
                      <div className="mt-1 flex flex-wrap gap-1">
                        {model.isDefault ? <Badge tone="indigo">default</Badge> : null}
                        {model.hidden ? <Badge tone="zinc">hidden from users</Badge> : null}
                      </div>
                    </td>
                    <td className={cell}>{model.family ?? "—"}</td>
                    <td className={cell}>{model.parameterSize ?? "—"}</td>
                    <td className={cell}>{model.quantization ?? "—"}</td>
                    <td className={`${cell} whitespace-nowrap`}>{formatBytes(model.size)}</td>
                    <td className={`${cell} whitespace-nowrap`}>
                      {model.modifiedAt ? (
                        <time dateTime={model.modifiedAt}>{formatDate(model.modifiedAt)}</time>
                      ) : (
                        "—"
                      )}
                    </td>
                    <td className={cell} data-testid="model-loaded">
                      {model.loaded ? (
                        <>
                          <div className="whitespace-nowrap">
                            {`yes, ${formatBytes(model.loaded.sizeVram)} VRAM`}
                          </div>
                          {model.loaded.expiresAt ? (
                            <div className="whitespace-nowrap text-zinc-500 dark:text-zinc-400">
                              until {formatDate(model.loaded.expiresAt)}
                            </div>
                          ) : null}
                        </>
                      ) : (
                        <span className="text-zinc-500 dark:text-zinc-400">no</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
