import { data, Form, Link, redirect } from "react-router";
import { SettingsNav } from "~/components/settings-nav";
import { systemPromptSchema } from "~/lib/chat-schemas";
import { requireUser } from "~/server/auth.server";
import { db } from "~/server/db.server";
import type { Route } from "./+types/chat";

export const meta: Route.MetaFunction = () => [{ title: "Chat settings · CustomChatAI" }];

export async function loader({ request }: Route.LoaderArgs) {
  const user = await requireUser(request);
  const settings = await db().user.findUnique({
    where: { id: user.id },
    select: { defaultSystemPrompt: true },
  });
  return { isAdmin: user.role === "ADMIN", defaultSystemPrompt: settings?.defaultSystemPrompt ?? "" };
}

export async function action({ request }: Route.ActionArgs) {
  const user = await requireUser(request);
  const form = await request.formData();
  // The one form here has no intent; anything else (such as the old "default-model" form, which
  // moved to /admin/models) must not fall through and save an empty prompt.
  if (form.has("intent")) return data({ error: "Unknown action." }, { status: 400 });
  const prompt = systemPromptSchema.safeParse(form.get("systemPrompt") ?? "");
  if (!prompt.success) return data({ error: prompt.error.issues[0].message }, { status: 400 });
  await db().user.update({ where: { id: user.id }, data: { defaultSystemPrompt: prompt.data } });
  throw redirect("/settings/chat");
}

export default function ChatSettings({ loaderData, actionData }: Route.ComponentProps) {
  const { isAdmin, defaultSystemPrompt } = loaderData;
  return (
    <div className="flex max-w-xl flex-col gap-8">
      <SettingsNav />
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
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          The default model for everyone is set on{" "}
          <Link to="/admin/models" className="text-indigo-700 underline dark:text-indigo-300">
            Administration → Models
          </Link>
          .
        </p>
      ) : null}
    </div>
  );
}
