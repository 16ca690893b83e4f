import type { MessageStatus } from "~/generated/prisma/client";
import { type ChatParams, chatParamsSchema } from "~/lib/chat-schemas";
import { db } from "../db.server";

/** A message id from a form or URL (a BIGSERIAL as decimal digits), or undefined. */
export function parseMessageId(value: unknown) {
  return typeof value === "string" && /^\d{1,18}$/.test(value) ? BigInt(value) : undefined;
}

export const chatSummarySelect = { id: true, title: true, model: true, updatedAt: true } as const;

export const messageSelect = {
  id: true,
  role: true,
  content: true,
  thinking: true,
  thinkingMs: true,
  status: true,
  error: true,
  model: true,
  promptTokens: true,
  completionTokens: true,
  ttftMs: true,
  totalMs: true,
  createdAt: true,
  // What a thumbnail needs; the bytes are served by /chat/:chatId/images/:imageId.
  images: {
    select: { id: true, mime: true, size: true, width: true, height: true },
    orderBy: { position: "asc" },
  },
} as const;

const chatRecordSelect = {
  id: true,
  userId: true,
  title: true,
  model: true,
  systemPrompt: true,
  think: true,
  options: true,
  pinnedAt: true,
  updatedAt: true,
} as const;

/** The saved parameters of a chat; anything unreadable counts as unset. */
export function chatParams(options: unknown): ChatParams {
  const parsed = chatParamsSchema
    .partial()
    .safeParse(
      Object.fromEntries(
        Object.entries(typeof options === "object" && options ? options : {}).map(([k, v]) => [k, String(v)]),
      ),
    );
  return parsed.success ? parsed.data : {};
}

/** Saves the chat's parameters (unset ones left out, so the model's defaults apply). */
export async function setChatParams(userId: string, chatId: string, params: ChatParams) {
  const options = Object.fromEntries(Object.entries(params).filter(([, value]) => value !== undefined));
  const { count } = await db().chat.updateMany({ where: { id: chatId, userId }, data: { options } });
  return count === 1;
}

export async function setChatThink(userId: string, chatId: string, think: boolean) {
  const { count } = await db().chat.updateMany({ where: { id: chatId, userId }, data: { think } });
  return count === 1;
}

/**
 * The user's chat, or a 404 Response: another user's chat looks exactly like a missing one, so ids
 * cannot be probed.
 */
export async function requireChat(userId: string, chatId: string) {
  const chat = await db().chat.findFirst({
    where: { id: chatId, userId },
    select: chatRecordSelect,
  });
  if (!chat) throw new Response("Chat not found", { status: 404 });
  return chat;
}
export type ChatRecord = Awaited<ReturnType<typeof requireChat>>;

export const CHAT_PAGE_SIZE = 50;

/** A page of the user's chats, newest activity first; `before` is the last chat of the previous page. */
export async function listChats(userId: string, before?: { updatedAt: Date; id: string }) {
  const chats = await db().chat.findMany({
    where: {
      userId,
      // Pinned chats are listed on their own, above these (listPinnedChats).
      pinnedAt: null,
      ...(before
        ? {
            OR: [
              { updatedAt: { lt: before.updatedAt } },
              { updatedAt: before.updatedAt, id: { lt: before.id } },
            ],
          }
        : {}),
    },
    orderBy: [{ updatedAt: "desc" }, { id: "desc" }],
    take: CHAT_PAGE_SIZE + 1,
    select: chatSummarySelect,
  });
  return { chats: chats.slice(0, CHAT_PAGE_SIZE), hasMore: chats.length > CHAT_PAGE_SIZE };
}

/** More than anyone pins on purpose; the list stays one query. */
export const MAX_PINNED_CHATS = 100;

/** The user's pinned chats, latest pin first. */
export function listPinnedChats(userId: string) {
  return db().chat.findMany({
    where: { userId, pinnedAt: { not: null } },
    orderBy: [{ pinnedAt: "desc" }, { id: "desc" }],
    take: MAX_PINNED_CHATS,
    select: chatSummarySelect,
  });
}

/** Pins or unpins the user's chat; false when the chat is not theirs or the pin limit is reached. */
export async function setChatPinned(userId: string, chatId: string, pinned: boolean) {
  if (pinned) {
    const count = await db().chat.count({ where: { userId, pinnedAt: { not: null } } });
    if (count >= MAX_PINNED_CHATS) return false;
  }
  const result = await db().chat.updateMany({
    where: { id: chatId, userId },
    data: { pinnedAt: pinned ? new Date() : null },
  });
  return result.count === 1;
}

export const MESSAGE_PAGE_SIZE = 50;

/** The latest messages of a chat (or those before `beforeId`), oldest first, for rendering. */
export async function messagePage(chatId: string, beforeId?: bigint) {
  const newestFirst = await db().message.findMany({
    where: { chatId, role: { not: "system" }, ...(beforeId ? { id: { lt: beforeId } } : {}) },
    orderBy: { id: "desc" },
    take: MESSAGE_PAGE_SIZE + 1,
    select: messageSelect,
  });
  const hasOlder = newestFirst.length > MESSAGE_PAGE_SIZE;
  return { messages: newestFirst.slice(0, MESSAGE_PAGE_SIZE).reverse(), hasOlder };
}

export async function renameChat(userId: string, chatId: string, title: string) {
  const { count } = await db().chat.updateMany({ where: { id: chatId, userId }, data: { title } });
  return count === 1;
}

export async function setChatSystemPrompt(userId: string, chatId: string, systemPrompt: string | null) {
  const { count } = await db().chat.updateMany({ where: { id: chatId, userId }, data: { systemPrompt } });
  return count === 1;
}

export async function deleteChat(userId: string, chatId: string) {
  const { count } = await db().chat.deleteMany({ where: { id: chatId, userId } });
  return count === 1;
}

export async function finishMessage(
  messageId: bigint,
  data: {
    content?: string;
    thinking?: string | null;
    thinkingMs?: number | null;
    status: MessageStatus;
    error?: string | null;
    promptTokens?: number | null;
    completionTokens?: number | null;
    ttftMs?: number | null;
    totalMs?: number | null;
  },
) {
  // Only a reply still marked streaming is finished: a later stop, retry or cleanup never
  // overwrites a reply that already ended.
  await db().message.updateMany({ where: { id: messageId, status: "streaming" }, data });
}

export async function setChatModel(userId: string, chatId: string, model: string) {
  await db().chat.updateMany({ where: { id: chatId, userId }, data: { model } });
}

export async function createChat(userId: string, input: { model: string; systemPrompt: string | null }) {
  const user = await db().user.findUnique({ where: { id: userId }, select: { defaultSystemPrompt: true } });
  return db().chat.create({
    data: {
      userId,
      title: "New chat",
      model: input.model,
      systemPrompt: input.systemPrompt ?? user?.defaultSystemPrompt ?? null,
    },
    select: chatRecordSelect,
  });
}
