import { data, redirect } from "react-router";
import { COMPOSER_FORM_ID, Composer, ModelProblem } from "~/components/chat/composer";
import { messageContentSchema, modelNameSchema, systemPromptSchema } from "~/lib/chat-schemas";
import { requireUser } from "~/server/auth.server";
import { createChat } from "~/server/chat/chats.server";
import { sendMessage, waitForReply } from "~/server/chat/generation.server";
import { readImageUploads, visionRefusal } from "~/server/chat/images.server";
import { modelChoices } from "~/server/chat/models.server";
import type { Route } from "./+types/new";

export const meta: Route.MetaFunction = () => [{ title: "New chat · CustomChatAI" }];

/** A few ways in for someone facing an empty box; each sends at once with the chosen model. */
export const STARTER_PROMPTS = [
  {
    title: "Explain something",
    prompt: "Explain how public-key cryptography works, as if I were new to it.",
  },
  {
    title: "Write code",
    prompt: "Write a Python function that removes duplicate lines from a file and keeps their order.",
  },
  {
    title: "Help me write",
    prompt: "Help me write a friendly email asking my team to review a document by Friday.",
  },
  {
    title: "Brainstorm",
    prompt: "Give me five ideas for a weekend project I can finish in two days.",
  },
] as const;

export async function loader({ request }: Route.LoaderArgs) {
  const user = await requireUser(request);
  return {
    choices: await modelChoices(user.id),
    isAdmin: user.role === "ADMIN",
    name: user.name || user.email,
  };
}

export async function action({ request }: Route.ActionArgs) {
  const user = await requireUser(request);
  const form = await request.formData();
  // A starter prompt's button submits the composer with its text as `starter` (the box may be empty).
  const typed = form.get("content");
  const starter = form.get("starter");
  const content = messageContentSchema.safeParse(
    (typeof typed === "string" && typed.trim() ? typed : starter) ?? "",
  );
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
  if (form.get("wait") === "1") {
    // No JavaScript: the browser itself scrolls to the finished reply.
    await waitForReply(replyId);
    throw redirect(`/chat/${chat.id}#m${replyId}`);
  }
  throw redirect(`/chat/${chat.id}`);
}

export default function NewChat({ loaderData, actionData }: Route.ComponentProps) {
  const { choices, isAdmin, name } = loaderData;
  const disabled = Boolean(choices.problem);
  return (
    <>
      <header className="flex h-12 shrink-0 items-center border-b border-zinc-200 pr-2 pl-14 md:pl-4 dark:border-zinc-800">
        <h1 className="font-semibold">New chat</h1>
      </header>
      <div className="min-h-0 flex-1 overflow-y-auto">
        <div className="mx-auto flex min-h-full w-full max-w-3xl flex-col justify-center gap-6 px-4 py-8">
          <div>
            <p className="truncate text-2xl font-semibold" data-testid="welcome" title={name}>
              Hello, {name}
            </p>
            <p className="mt-1 text-zinc-600 dark:text-zinc-400">What would you like to talk about?</p>
          </div>
          {choices.problem ? <ModelProblem problem={choices.problem} isAdmin={isAdmin} /> : null}
          <ul className="grid gap-2 sm:grid-cols-2" aria-label="Starter prompts" data-testid="starters">
            {STARTER_PROMPTS.map((starter) => (
              <li key={starter.title}>
                <button
                  type="submit"
                  form={COMPOSER_FORM_ID}
                  name="starter"
                  value={starter.prompt}
                  formNoValidate
                  disabled={disabled}
                  className="h-full w-full rounded-lg border border-zinc-200 px-4 py-3 text-left text-sm hover:bg-zinc-50 disabled:opacity-60 dark:border-zinc-800 dark:hover:bg-zinc-900"
                >
                  <span className="block font-medium">{starter.title}</span>
                  <span className="mt-0.5 block text-zinc-600 dark:text-zinc-400">{starter.prompt}</span>
                </button>
              </li>
            ))}
          </ul>
        </div>
      </div>
      <div className="shrink-0 px-3 pb-3">
        <div className="mx-auto w-full max-w-3xl">
          <Composer
            models={choices.models}
            model={choices.defaultModel}
            error={actionData?.error}
            disabled={disabled}
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
        </div>
      </div>
    </>
  );
}
