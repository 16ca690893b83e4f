import { data, redirect } from "react-router";
import { Composer, ModelProblem } from "~/components/chat/composer";
import { messageContentSchema, modelNameSchema, systemPromptSchema } from "~/lib/chat-schemas";
import { requireUser } from "~/server/auth.server";
import { createChat } from "~/server/chat/chats.server";
import { sendMessage, waitForReply } from "~/server/chat/generation.server";
import { readImageUploads, visionRefusal } from "~/server/chat/images.server";
import { modelChoices } from "~/server/chat/models.server";
import type { Route } from "./+types/new";

export const meta: Route.MetaFunction = () => [{ title: "New chat · CustomChatAI" }];

export async function loader({ request }: Route.LoaderArgs) {
  const user = await requireUser(request);
  return { choices: await modelChoices(user.id), isAdmin: user.role === "ADMIN" };
}

export async function action({ request }: Route.ActionArgs) {
  const user = await requireUser(request);
  const form = await request.formData();
  const content = messageContentSchema.safeParse(form.get("content") ?? "");
  if (!content.success) return data({ error: content.error.issues[0].message }, { status: 400 });
  const model = modelNameSchema.safeParse(form.get("model") ?? "");
  if (!model.success) return data({ error: model.error.issues[0].message }, { status: 400 });
  const systemPrompt = systemPromptSchema.safeParse(form.get("systemPrompt") ?? "");
  if (!systemPrompt.success) return data({ error: systemPrompt.error.issues[0].message }, { status: 400 });
  // Images are checked before anything is written: a refused message leaves no chat behind.
  const upload = await readImageUploads(form);
  if ("error" in upload) return data({ error: upload.error }, { status: 400 });
  const refusal = await visionRefusal(user.id, model.data, upload.images);
  if (refusal) return data({ error: refusal }, { status: 400 });

  const chat = await createChat(user.id, { model: model.data, systemPrompt: systemPrompt.data });
  const { replyId } = await sendMessage(user.id, chat, content.data, upload.images);
  if (form.get("wait") === "1") await waitForReply(replyId);
  throw redirect(`/chat/${chat.id}`);
}

export default function NewChat({ loaderData, actionData }: Route.ComponentProps) {
  const { choices, isAdmin } = loaderData;
  return (
    <section className="flex flex-col gap-6">
      <h1 className="text-xl font-semibold">New chat</h1>
      {choices.problem ? <ModelProblem problem={choices.problem} isAdmin={isAdmin} /> : null}
      <Composer
        models={choices.models}
        model={choices.defaultModel}
        error={actionData?.error}
        disabled={Boolean(choices.problem)}
      >
        <details className="text-sm">
          <summary className="cursor-pointer text-zinc-600 dark:text-zinc-400">
            System prompt (optional)
          </summary>
          <textarea
            name="systemPrompt"
            rows={3}
            aria-label="System prompt"
            placeholder="Leave empty to use your default"
            className="mt-2 w-full rounded border border-zinc-300 px-2 py-1 dark:border-zinc-700 dark:bg-zinc-900"
          />
        </details>
      </Composer>
    </section>
  );
}
