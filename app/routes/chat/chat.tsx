import { data, Form, Link, redirect } from "react-router";
import { ChatMenu } from "~/components/chat/chat-menu";
import { Composer, ModelProblem } from "~/components/chat/composer";
import { PinIcon } from "~/components/chat/icons";
import { MessageList } from "~/components/chat/messages";
import { ScrollPane } from "~/components/chat/scroll-pane";
import { ChatSettings } from "~/components/chat/settings";
import {
  chatParamsSchema,
  messageContentSchema,
  modelNameSchema,
  systemPromptSchema,
  titleSchema,
} from "~/lib/chat-schemas";
import { requireUser } from "~/server/auth.server";
import {
  chatParams,
  deleteChat,
  messagePage,
  parseMessageId,
  renameChat,
  requireChat,
  setChatModel,
  setChatParams,
  setChatPinned,
  setChatSystemPrompt,
  setChatThink,
} from "~/server/chat/chats.server";
import {
  finishIfOrphaned,
  replaceLastReply,
  requestStop,
  sendMessage,
  waitForReply,
} from "~/server/chat/generation.server";
import { readImageUploads, visionRefusal } from "~/server/chat/images.server";
import { withReplyHtml } from "~/server/chat/markdown.server";
import { modelChoices } from "~/server/chat/models.server";
import { modelSettings } from "~/server/chat/params.server";
import type { Route } from "./+types/chat";

export const meta: Route.MetaFunction = ({ data }) => [
  { title: `${data?.chat.title ?? "Chat"} · CustomChatAI` },
];

export async function loader({ request, params }: Route.LoaderArgs) {
  const user = await requireUser(request);
  const chat = await requireChat(user.id, params.chatId);
  const search = new URL(request.url).searchParams;
  const beforeId = parseMessageId(search.get("before"));
  const [page, choices, settings] = await Promise.all([
    messagePage(chat.id, beforeId),
    modelChoices(user.id),
    modelSettings(chat.model),
  ]);
  // A reply whose writer is gone (a replica stopped mid-reply) is closed here as failed.
  for (const message of page.messages) {
    if (message.status === "streaming" && (await finishIfOrphaned(message.id))) {
      message.status = "failed";
      message.error = "This reply was interrupted (the server stopped while writing it).";
    }
  }
  return {
    isAdmin: user.role === "ADMIN",
    chat: {
      id: chat.id,
      title: chat.title,
      model: chat.model,
      systemPrompt: chat.systemPrompt,
      think: chat.think,
      pinned: chat.pinnedAt !== null,
      params: chatParams(chat.options),
    },
    settings,
    // Finished replies arrive as HTML drawn on the server, so the page needs no Markdown renderer.
    messages: await withReplyHtml(page.messages.map((message) => ({ ...message, id: String(message.id) }))),
    olderCursor: page.hasOlder ? String(page.messages[0].id) : null,
    choices,
    editing: search.get("edit") === "1",
    confirmingDelete: search.get("delete") === "1",
    renaming: search.get("rename") === "1",
    showSettings: search.get("settings") === "1",
  };
}

type ActionResult = { error?: string; field?: string };

export async function action({ request, params }: Route.ActionArgs) {
  const user = await requireUser(request);
  const chat = await requireChat(user.id, params.chatId);
  const form = await request.formData();
  const intent = form.get("intent");
  const fail = (field: string, error: string, status = 400) =>
    data<ActionResult>({ field, error }, { status });

  switch (intent) {
    case "send": {
      const content = messageContentSchema.safeParse(form.get("content") ?? "");
      if (!content.success) return fail("content", content.error.issues[0].message);
      const model = modelNameSchema.safeParse(form.get("model") ?? chat.model);
      if (!model.success) return fail("content", model.error.issues[0].message);
      const upload = await readImageUploads(form);
      if ("error" in upload) return fail("content", upload.error);
      const refusal = await visionRefusal(user.id, model.data, upload.images);
      if (refusal) return fail("content", refusal);
      if (model.data !== chat.model) await setChatModel(user.id, chat.id, model.data);
      const { replyId } = await sendMessage(
        user.id,
        { ...chat, model: model.data },
        content.data,
        upload.images,
      );
      if (form.get("wait") === "1") {
        // No JavaScript: answer with the finished reply.
        await waitForReply(replyId);
        throw redirect(`/chat/${chat.id}#m${replyId}`);
      }
      return data<ActionResult>({});
    }
    case "regenerate":
    case "edit": {
      let edited: string | undefined;
      if (intent === "edit") {
        const content = messageContentSchema.safeParse(form.get("content") ?? "");
        if (!content.success) return fail("content", content.error.issues[0].message);
        edited = content.data;
      }
      const started = await replaceLastReply(chat, edited);
      if (!started) return fail("content", "Wait for the current reply to finish first.", 409);
      if (form.get("wait") !== "0") await waitForReply(started.replyId);
      throw redirect(`/chat/${chat.id}`);
    }
    case "stop": {
      const messageId = parseMessageId(form.get("messageId"));
      if (messageId === undefined || !(await requestStop(user.id, chat.id, messageId)))
        return fail("intent", "That reply is not in this chat.", 404);
      return data<ActionResult>({});
    }
    case "rename": {
      const title = titleSchema.safeParse(form.get("title") ?? "");
      if (!title.success) return fail("title", title.error.issues[0].message);
      await renameChat(user.id, chat.id, title.data);
      throw redirect(`/chat/${chat.id}`);
    }
    case "system": {
      const prompt = systemPromptSchema.safeParse(form.get("systemPrompt") ?? "");
      if (!prompt.success) return fail("systemPrompt", prompt.error.issues[0].message);
      await setChatSystemPrompt(user.id, chat.id, prompt.data);
      throw redirect(`/chat/${chat.id}?settings=1`);
    }
    case "params": {
      const params = chatParamsSchema.safeParse(
        Object.fromEntries(
          (["temperature", "topP", "numCtx", "seed", "numPredict"] as const).map((name) => [
            name,
            String(form.get(name) ?? ""),
          ]),
        ),
      );
      if (!params.success) return fail("params", params.error.issues[0].message);
      await setChatParams(user.id, chat.id, params.data);
      throw redirect(`/chat/${chat.id}?settings=1`);
    }
    case "think": {
      const think = form.get("think");
      if (think !== "on" && think !== "off") return fail("params", "Choose thinking on or off.");
      await setChatThink(user.id, chat.id, think === "on");
      throw redirect(`/chat/${chat.id}?settings=1`);
    }
    case "pin": {
      const pinned = form.get("pinned");
      if (pinned !== "on" && pinned !== "off") return fail("intent", "Choose pin or unpin.");
      if (!(await setChatPinned(user.id, chat.id, pinned === "on")))
        return fail("intent", "You have pinned as many chats as can be pinned; unpin one first.", 409);
      throw redirect(`/chat/${chat.id}`);
    }
    case "delete": {
      await deleteChat(user.id, chat.id);
      throw redirect("/chat");
    }
    default:
      return fail("intent", "Unknown action.");
  }
}

const inputClass = "rounded border border-zinc-300 bg-white px-2 py-1 dark:border-zinc-700 dark:bg-zinc-900";

/** The chat's own settings, opened from the menu: system prompt, thinking switch, parameters. */
function SettingsPanel({
  chat,
  settings,
  error,
}: {
  chat: Route.ComponentProps["loaderData"]["chat"];
  settings: Route.ComponentProps["loaderData"]["settings"];
  error?: string;
}) {
  return (
    <section
      aria-labelledby="chat-settings-title"
      className="mb-6 flex flex-col gap-3 rounded-lg border border-zinc-200 p-4 dark:border-zinc-800"
      data-testid="chat-settings"
    >
      <div className="flex items-center justify-between">
        <h2 id="chat-settings-title" className="font-medium">
          System prompt and parameters
        </h2>
        <Link to="." className="text-sm underline">
          Close
        </Link>
      </div>
      <Form method="post" className="flex flex-col gap-2 text-sm">
        <input type="hidden" name="intent" value="system" />
        <label htmlFor="system-prompt" className="text-zinc-600 dark:text-zinc-400">
          System prompt
        </label>
        <textarea
          id="system-prompt"
          name="systemPrompt"
          defaultValue={chat.systemPrompt ?? ""}
          rows={3}
          className={inputClass}
        />
        <button
          type="submit"
          className="self-start rounded border border-zinc-300 px-3 py-1 dark:border-zinc-700"
        >
          Save system prompt
        </button>
      </Form>
      <ChatSettings think={chat.think} params={chat.params} settings={settings} error={error} />
    </section>
  );
}

export default function ChatPage({ loaderData, actionData }: Route.ComponentProps) {
  const {
    chat,
    messages,
    olderCursor,
    choices,
    editing,
    confirmingDelete,
    renaming,
    showSettings,
    isAdmin,
    settings,
  } = loaderData;
  const replying = messages.some((message) => message.status === "streaming");
  const paramsError = actionData?.field === "params" ? actionData.error : undefined;
  const settingsOpen = showSettings || Boolean(paramsError) || actionData?.field === "systemPrompt";
  const alert =
    actionData?.field === "title" || actionData?.field === "intent" || actionData?.field === "systemPrompt"
      ? actionData.error
      : undefined;
  return (
    <>
      <header className="flex h-12 shrink-0 items-center gap-2 border-b border-zinc-200 pr-2 pl-14 md:pl-4 dark:border-zinc-800">
        {renaming ? (
          <Form method="post" className="flex min-w-0 flex-1 gap-2">
            {/* The page keeps its heading for screen readers while the title is being edited. */}
            <h1 className="sr-only">{chat.title}</h1>
            <input type="hidden" name="intent" value="rename" />
            <input
              name="title"
              defaultValue={chat.title}
              aria-label="Title"
              // biome-ignore lint/a11y/noAutofocus: the user just chose Rename
              autoFocus
              className={`min-w-0 flex-1 ${inputClass}`}
            />
            <button type="submit" className="rounded bg-indigo-600 px-3 py-1 text-sm text-white">
              Save
            </button>
            <Link to="." className="px-1 py-1 text-sm underline">
              Cancel
            </Link>
          </Form>
        ) : (
          <h1 className="min-w-0 flex-1 truncate font-semibold" data-testid="chat-title" title={chat.title}>
            {chat.pinned ? (
              <span
                className="mr-1.5 inline-block align-[-2px] text-zinc-600 dark:text-zinc-400"
                title="Pinned"
              >
                <PinIcon />
                <span className="sr-only">Pinned:</span>
              </span>
            ) : null}
            {chat.title}
          </h1>
        )}
        <ChatMenu chatId={chat.id} pinned={chat.pinned} />
      </header>
      {/* Above the conversation, not in it: a chat opens at its latest message, and these must be
          in view when asked for. */}
      {alert || confirmingDelete || settingsOpen ? (
        <div className="max-h-[55dvh] shrink-0 overflow-y-auto border-b border-zinc-200 dark:border-zinc-800">
          <div className="mx-auto w-full max-w-3xl px-4 pt-4">
            {alert ? (
              <p role="alert" className="mb-4 text-sm text-red-700 dark:text-red-400">
                {alert}
              </p>
            ) : null}
            {confirmingDelete ? (
              <Form
                method="post"
                className="mb-6 flex flex-wrap items-center gap-3 rounded border border-red-300 bg-red-50 px-4 py-3 dark:border-red-900 dark:bg-red-950"
                data-testid="confirm-delete"
              >
                <input type="hidden" name="intent" value="delete" />
                <span>Delete this chat and all its messages? This cannot be undone.</span>
                <button type="submit" className="rounded bg-red-600 px-3 py-1 text-sm text-white">
                  Delete chat
                </button>
                <Link to="." className="text-sm underline">
                  Cancel
                </Link>
              </Form>
            ) : null}
            {settingsOpen ? <SettingsPanel chat={chat} settings={settings} error={paramsError} /> : null}
          </div>
        </div>
      ) : null}
      <ScrollPane key={chat.id} latestId={messages.at(-1)?.id}>
        <MessageList
          key={chat.id}
          chatId={chat.id}
          messages={messages}
          olderCursor={olderCursor}
          editing={editing}
          modelLabels={Object.fromEntries(
            choices.models.flatMap((model) => (model.displayName ? [[model.name, model.displayName]] : [])),
          )}
        />
      </ScrollPane>
      <div className="shrink-0 px-3 pb-3">
        <div className="mx-auto flex w-full max-w-3xl flex-col gap-2">
          {choices.problem ? <ModelProblem problem={choices.problem} isAdmin={isAdmin} /> : null}
          <Composer
            models={choices.models}
            model={
              choices.models.some((model) => model.name === chat.model) ? chat.model : choices.defaultModel
            }
            error={actionData?.field === "content" ? actionData.error : undefined}
            disabled={replying || Boolean(choices.problem)}
          />
        </div>
      </div>
    </>
  );
}
