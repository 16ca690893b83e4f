import { titleFromMessage } from "~/lib/chat-schemas";
import { recordChatUsage } from "../api/usage.server";
import { db } from "../db.server";
import { env } from "../env.server";
import { errorFields, log } from "../log.server";
import { isModelHidden } from "../models/settings.server";
import {
  type ModelDetails,
  modelDetails,
  type OllamaChatMessage,
  OllamaError,
  streamChat,
} from "../ollama/client.server";
import { type ChatRecord, chatParams, finishMessage } from "./chats.server";
import { type ImageUpload, imagesForOllama } from "./images.server";
import { LEASE_RENEW_MS, type LiveEvent, liveStore } from "./live.server";

/**
 * Replies are generated here, detached from the HTTP request that asked for them: closing the tab
 * does not stop a reply, it completes and is saved. The text streams into the live store (see
 * live.server.ts), where any replica can follow it, and is written to the database at the end.
 */

interface ActiveGeneration {
  controller: AbortController;
  done: Promise<void>;
}

const active = new Map<string, ActiveGeneration>();
let listeningForStops = false;

function listenForStops() {
  if (listeningForStops) return;
  listeningForStops = true;
  liveStore().onStopRequest((messageId) => {
    active.get(messageId)?.controller.abort(new StopRequested());
  });
}

class StopRequested extends Error {}
class ShuttingDown extends Error {}

/**
 * Saves the user's message (with its images, already checked: see images.server.ts) and an empty
 * reply, then starts generating; resolves once both are saved.
 */
export async function sendMessage(
  userId: string,
  chat: ChatRecord,
  content: string,
  images: ImageUpload[] = [],
) {
  const reply = await db().$transaction(
    async (tx) => {
      const earlier = await tx.message.count({ where: { chatId: chat.id } });
      await tx.message.create({
        data: {
          chatId: chat.id,
          role: "user",
          content,
          images: {
            create: images.map((image, position) => ({
              position,
              mime: image.mime,
              bytes: image.bytes,
              size: image.bytes.length,
              width: image.width,
              height: image.height,
            })),
          },
        },
      });
      const assistant = await tx.message.create({
        data: { chatId: chat.id, role: "assistant", content: "", status: "streaming", model: chat.model },
        select: { id: true },
      });
      await tx.chat.update({
        where: { id: chat.id },
        data: { updatedAt: new Date(), ...(earlier === 0 ? { title: titleFromMessage(content) } : {}) },
      });
      await tx.user.update({ where: { id: userId }, data: { lastModel: chat.model } });
      return assistant;
      // Up to four 5 MB images are written here: more than Prisma's default 5 s on a busy database.
    },
    { timeout: 30_000 },
  );
  return startGeneration(chat, reply.id);
}

/**
 * Replaces the last reply with a new one (regenerate, or retry after a failure). With `editedContent`
 * the last user message is changed first. Refused while a reply is still being written.
 */
export async function replaceLastReply(chat: ChatRecord, editedContent?: string) {
  const reply = await db().$transaction(async (tx) => {
    const [last, lastUser] = await Promise.all([
      tx.message.findFirst({
        where: { chatId: chat.id },
        orderBy: { id: "desc" },
        select: { id: true, role: true, status: true },
      }),
      tx.message.findFirst({
        where: { chatId: chat.id, role: "user" },
        orderBy: { id: "desc" },
        select: { id: true },
      }),
    ]);
    if (!last || !lastUser) return null;
    if (last.status === "streaming") return null;
    if (last.role === "assistant") await tx.message.delete({ where: { id: last.id } });
    if (editedContent !== undefined) {
      await tx.message.update({ where: { id: lastUser.id }, data: { content: editedContent } });
    }
    await tx.chat.update({ where: { id: chat.id }, data: { updatedAt: new Date() } });
    return tx.message.create({
      data: { chatId: chat.id, role: "assistant", content: "", status: "streaming", model: chat.model },
      select: { id: true },
    });
  });
  if (!reply) return null;
  return startGeneration(chat, reply.id);
}

/**
 * Asks whichever replica is writing this reply to stop; the partial text is kept, marked stopped.
 * Only the owner of the chat can stop it: the reply must be an assistant message of `chatId`, a chat
 * of `userId`. Message ids are sequential, so this check is what keeps users from stopping each
 * other's replies. Returns whether a stop was requested.
 */
export async function requestStop(userId: string, chatId: string, messageId: bigint) {
  const reply = await db().message.findFirst({
    where: { id: messageId, chatId, role: "assistant", chat: { userId } },
    select: { id: true },
  });
  if (!reply) return false;
  await liveStore().requestStop(String(messageId));
  return true;
}

function startGeneration(chat: ChatRecord, replyId: bigint) {
  listenForStops();
  const controller = new AbortController();
  const key = String(replyId);
  const done = generate(chat, replyId, controller.signal)
    .catch((error) => log.error("generation crashed", { messageId: key, ...errorFields(error) }))
    .finally(() => active.delete(key));
  active.set(key, { controller, done });
  return { replyId, done };
}

async function generate(chat: ChatRecord, replyId: bigint, signal: AbortSignal) {
  const key = String(replyId);
  const live = liveStore();
  const startedAt = performance.now();
  await live.renewLease(key);
  const lease = setInterval(() => live.renewLease(key).catch(() => {}), LEASE_RENEW_MS);

  let text = "";
  let thinking = "";
  let thinkingStartedAt: number | undefined;
  let thinkingEndedAt: number | undefined;
  let firstTokenAt: number | undefined;
  let usage: { promptTokens?: number; completionTokens?: number } = {};
  // Deltas are batched: while one append is in flight, new text collects and goes in the next.
  let pending = "";
  let pendingThinking = "";
  let flushing: Promise<void> = Promise.resolve();
  const flush = () => {
    if (!pending && !pendingThinking) return flushing;
    // Thinking comes before the answer, so it goes first when both collected.
    const events: LiveEvent[] = [];
    if (pendingThinking) events.push({ type: "thinking", text: pendingThinking });
    if (pending) events.push({ type: "delta", text: pending });
    pending = "";
    pendingThinking = "";
    flushing = flushing.then(() => live.append(key, events)).catch(() => {});
    return flushing;
  };

  let end: Extract<LiveEvent, { type: "end" }>;
  try {
    // A model an admin hid fails the reply exactly as a model that is not installed does (the
    // text is Ollama's own for an unknown model), so a hand-made form post cannot reach it.
    if (await isModelHidden(chat.model)) {
      throw new OllamaError(`model ${JSON.stringify(chat.model)} not found, try pulling it first`, 404);
    }
    const details = await modelDetails(chat.model).catch(() => undefined);
    const { messages, options } = await buildContext(chat, replyId, details);
    const canThink = details?.capabilities.includes("thinking") ?? false;
    for await (const chunk of streamChat({
      model: chat.model,
      messages,
      options,
      // Only said when turning thinking off: Ollama turns it on by default for thinking models,
      // and refuses `think` for models without the capability.
      ...(canThink && !chat.think ? { think: false } : {}),
      signal,
    })) {
      const thought = chunk.message?.thinking ?? "";
      if (thought) {
        thinkingStartedAt ??= performance.now();
        firstTokenAt ??= thinkingStartedAt;
        thinking += thought;
        pendingThinking += thought;
        void flush();
      }
      const delta = chunk.message?.content ?? "";
      if (delta) {
        if (thinkingStartedAt !== undefined) thinkingEndedAt ??= performance.now();
        firstTokenAt ??= performance.now();
        text += delta;
        pending += delta;
        void flush();
      }
      if (chunk.done) {
        usage = { promptTokens: chunk.prompt_eval_count ?? 0, completionTokens: chunk.eval_count ?? 0 };
      }
    }
    end = { type: "end", status: "complete" };
  } catch (error) {
    if (signal.aborted && signal.reason instanceof StopRequested) {
      end = { type: "end", status: "stopped" };
    } else if (signal.aborted && signal.reason instanceof ShuttingDown) {
      end = {
        type: "end",
        status: "failed",
        error: "The server restarted while this reply was being written.",
      };
    } else {
      const message = error instanceof OllamaError ? error.message : "Something went wrong while generating.";
      if (!(error instanceof OllamaError))
        log.error("generation failed", { messageId: key, ...errorFields(error) });
      end = { type: "end", status: "failed", error: message };
    }
  } finally {
    clearInterval(lease);
  }

  const finishedAt = performance.now();
  const totalMs = Math.round(finishedAt - startedAt);
  await finishMessage(replyId, {
    content: text,
    thinking: thinking || null,
    thinkingMs:
      thinkingStartedAt === undefined
        ? null
        : Math.round((thinkingEndedAt ?? finishedAt) - thinkingStartedAt),
    status: end.status,
    error: end.error ?? null,
    promptTokens: usage.promptTokens ?? null,
    completionTokens: usage.completionTokens ?? null,
    ttftMs: firstTokenAt === undefined ? null : Math.round(firstTokenAt - startedAt),
    totalMs,
  });
  // The admin roll-ups get the same numbers as the message row (batched; see usage.server.ts).
  recordChatUsage({
    userId: chat.userId,
    model: chat.model,
    promptTokens: usage.promptTokens ?? 0,
    completionTokens: usage.completionTokens ?? 0,
    latencyMs: totalMs,
    failed: end.status === "failed",
  });
  // The end event goes out only after the database has the final text, so a reader that reloads
  // on "end" always finds it.
  await flush();
  await flushing;
  await live
    .append(key, [end])
    .catch((error) => log.warn("could not publish end of reply", errorFields(error)));
}

/**
 * Rough token count for budgeting: about four characters per token, plus per-message overhead.
 * An image is counted as LLaVA's 576 patches (a 336 px CLIP grid of 24 × 24); other vision models
 * use fewer or more, but the order of magnitude keeps old images from overflowing the window.
 */
function estimateTokens(content: string, imageCount = 0) {
  return Math.ceil(content.length / 4) + 4 + imageCount * 576;
}

/**
 * The messages to send: the system prompt (always kept) and as many of the latest turns as fit in
 * the context window, newest kept, oldest dropped. The window is the model's own (from /api/show),
 * capped by CHAT_MAX_CONTEXT_TOKENS because a bigger num_ctx costs Ollama memory. A context length
 * set on the chat replaces the model's window, under the same cap. The chat's other parameters go
 * to Ollama as options; unset ones are left out so the model's own defaults apply.
 */
async function buildContext(chat: ChatRecord, replyId: bigint, details: ModelDetails | undefined) {
  const params = chatParams(chat.options);
  const numCtx = Math.min(params.numCtx ?? details?.contextLength ?? 4096, env().CHAT_MAX_CONTEXT_TOKENS);
  const options: Record<string, number> = { num_ctx: numCtx };
  if (params.temperature !== undefined) options.temperature = params.temperature;
  if (params.topP !== undefined) options.top_p = params.topP;
  if (params.seed !== undefined) options.seed = params.seed;
  if (params.numPredict !== undefined) options.num_predict = params.numPredict;
  const reservedForReply = Math.min(1024, Math.floor(numCtx / 4));
  let budget = numCtx - reservedForReply;

  const system: OllamaChatMessage[] = chat.systemPrompt
    ? [{ role: "system", content: chat.systemPrompt }]
    : [];
  if (chat.systemPrompt) budget -= estimateTokens(chat.systemPrompt);
  // A chat that had a picture can go on with a text-only model (the new message has none: that is
  // refused before it is saved). Ollama refuses `images` for such a model, so earlier pictures are
  // left out for it, and cost nothing in the budget.
  const canSee = details?.capabilities.includes("vision") ?? false;

  const kept: Array<{ id: bigint; images: number; role: string; content: string }> = [];
  let beforeId = replyId;
  const pageSize = 200;
  for (let full = false; !full; ) {
    const page = await db().message.findMany({
      where: { chatId: chat.id, id: { lt: beforeId }, role: { in: ["user", "assistant"] } },
      orderBy: { id: "desc" },
      take: pageSize,
      select: { id: true, role: true, content: true, status: true, _count: { select: { images: true } } },
    });
    for (const message of page) {
      beforeId = message.id;
      // Failed or empty replies are not part of the conversation the model should see.
      if (message.role === "assistant" && (message.status === "failed" || !message.content)) continue;
      const imageCount = canSee ? message._count.images : 0;
      const cost = estimateTokens(message.content, imageCount);
      // The newest message (the user's question) is always sent, even if alone it is too long.
      if (cost > budget && kept.length > 0) {
        full = true;
        break;
      }
      budget -= cost;
      kept.push({
        id: message.id,
        images: imageCount,
        role: message.role,
        content: message.content,
      });
    }
    if (page.length < pageSize) break;
  }
  // Images go with their messages on every turn, earlier ones too: Ollama keeps no state between
  // requests, so a follow-up question about a picture needs the picture again.
  const images = await imagesForOllama(kept.filter((message) => message.images > 0).map(({ id }) => id));
  const history = kept.reverse().map(
    ({ id, role, content }): OllamaChatMessage => ({
      role: role as "user" | "assistant",
      content,
      ...(images.has(id) ? { images: images.get(id) } : {}),
    }),
  );
  return { messages: [...system, ...history], options };
}

/**
 * A reply marked streaming whose writer is gone (its replica stopped or crashed) is finished as
 * failed, keeping what the live log has. Called when such a reply is looked at.
 */
export async function finishIfOrphaned(replyId: bigint) {
  const key = String(replyId);
  if (active.has(key) || (await liveStore().isAlive(key))) return false;
  await finishMessage(replyId, {
    status: "failed",
    error: "This reply was interrupted (the server stopped while writing it).",
  });
  return true;
}

/** Waits for a reply generated by this process (used by the no-JavaScript form post). */
export function waitForReply(replyId: bigint) {
  return active.get(String(replyId))?.done ?? Promise.resolve();
}

/** Replies this process is writing; shutdown waits for them like for open requests. */
export function activeGenerationCount() {
  return active.size;
}

/** At the end of the shutdown grace period: save what is still being written as failed. */
export async function abortAllGenerations() {
  const pending = [...active.values()];
  for (const generation of pending) generation.controller.abort(new ShuttingDown());
  await Promise.all(pending.map((generation) => generation.done));
}
