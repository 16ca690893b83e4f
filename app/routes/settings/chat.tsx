import { data, Form, redirect } from "react-router";
import { modelNameSchema, systemPromptSchema } from "~/lib/chat-schemas";
import { requireUser } from "~/server/auth.server";
import { adminDefaultModel, setAdminDefaultModel } from "~/server/chat/models.server";
import { db } from "~/server/db.server";
import { cachedModels } from "~/server/ollama/client.server";
import type { Route } from "./+types/chat";

export const meta: Route.MetaFunction = () => [{ title: "Chat settings · CustomChatAI" }];

export async function loader({ request }: Route.LoaderArgs) {
  const user = await requireUser(request);
  const isAdmin = user.role === "ADMIN";
  const [settings, defaultModel, models] = await Promise.all([
    db().user.findUnique({ where: { id: user.id }, select: { defaultSystemPrompt: true } }),
    isAdmin ? adminDefaultModel() : null,
    isAdmin ? cachedModels().catch(() => []) : [],
  ]);
  return { isAdmin, defaultSystemPrompt: settings?.defaultSystemPrompt ?? "", defaultModel, models };
}

export async function action({ request }: Route.ActionArgs) {
  const user = await requireUser(request);
  const form = await request.formData();
  if (form.get("intent") === "default-model") {
    if (user.role !== "ADMIN") throw new Response("Only administrators can do this.", { status: 403 });
    const value = String(form.get("model") ?? "");
    const model = value ? modelNameSchema.safeParse(value) : { success: true as const, data: null };
    if (!model.success) return data({ error: model.error.issues[0].message }, { status: 400 });
    await setAdminDefaultModel(model.data);
    throw redirect("/settings/chat");
  }
  const prompt = systemPromptSchema.safeParse(form.get("systemPrompt") ?? "");
  if (!prompt.success) return data({ error: prompt.error.issues[0].message }, { status: 400 });
  await db().user.update({ where: { id: user.id }, data: { defaultSystemPrompt: prompt.data } });
  throw redirect("/settings/chat");
}

export default function ChatSettings({ loaderData, actionData }: Route.ComponentProps) {
  const { isAdmin, defaultSystemPrompt, defaultModel, models } = loaderData;
  return (
    <div className="flex max-w-xl flex-col gap-8">
      <h1 className="text-2xl font-semibold">Chat settings</h1>
      {actionData?.error ? (
        <p role="alert" className="text-sm text-red-600 dark:text-red-400">
          {actionData.error}
        </p>
      ) : null}
      <Form method="post" className="flex flex-col gap-2">
        <label htmlFor="systemPrompt" className="font-medium">
          Default system prompt for new chats
        </label>
        <textarea
          id="systemPrompt"
          name="systemPrompt"
          rows={4}
          defaultValue={defaultSystemPrompt}
          className="rounded border border-zinc-300 px-2 py-1 dark:border-zinc-700 dark:bg-zinc-900"
        />
        <button type="submit" className="self-start rounded bg-indigo-600 px-3 py-1.5 text-white">
          Save
        </button>
      </Form>
      {isAdmin ? (
        <Form method="post" className="flex flex-col gap-2">
          <input type="hidden" name="intent" value="default-model" />
          <label htmlFor="model" className="font-medium">
            Default model for everyone (used until a user picks one)
          </label>
          <select
            id="model"
            name="model"
            defaultValue={defaultModel ?? ""}
            className="rounded border border-zinc-300 px-2 py-1 dark:border-zinc-700 dark:bg-zinc-900"
          >
            <option value="">First installed model</option>
            {models.map((model) => (
              <option key={model.name} value={model.name}>
                {model.name}
              </option>
            ))}
          </select>
          <button type="submit" className="self-start rounded bg-indigo-600 px-3 py-1.5 text-white">
            Save default model
          </button>
        </Form>
      ) : null}
    </div>
  );
}
