/**
 * Chat export as JSON, CSV or Markdown, streamed: the body is produced batch by batch as the
 * client reads it (a pull-based ReadableStream), so a history of any size is never held in memory,
 * and a client that stops reading stops the database queries too.
 *
 * An export is not a snapshot: a message written while a long export runs may or may not be in it.
 */
import { db } from "../db.server";
import { errorFields, log } from "../log.server";
import { messageSelect } from "./chats.server";
import { imagesWithData } from "./images.server";

export const EXPORT_FORMATS = ["json", "csv", "md"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const MESSAGE_BATCH = 500;
const CHAT_BATCH = 100;

const CONTENT_TYPES: Record<ExportFormat, string> = {
  json: "application/json; charset=utf-8",
  csv: "text/csv; charset=utf-8; header=present",
  md: "text/markdown; charset=utf-8",
};

/** `?format=`: absent means JSON; anything else unknown is null (the route answers 400). */
export function parseExportFormat(value: string | null): ExportFormat | null {
  if (value === null || value === "") return "json";
  return (EXPORT_FORMATS as readonly string[]).includes(value) ? (value as ExportFormat) : null;
}

const chatSelect = {
  id: true,
  title: true,
  model: true,
  systemPrompt: true,
  think: true,
  options: true,
  createdAt: true,
  updatedAt: true,
} as const;

type ExportChat = {
  id: string;
  title: string;
  model: string;
  systemPrompt: string | null;
  think: boolean;
  options: unknown;
} & Record<"createdAt" | "updatedAt", Date>;
type ExportMessage = Awaited<ReturnType<typeof messageBatch>>[number];

/** The user's own chat, or null: someone else's chat and a missing one are indistinguishable. */
export function findOwnChat(userId: string, chatId: string): Promise<ExportChat | null> {
  return db().chat.findFirst({ where: { id: chatId, userId }, select: chatSelect });
}

/** The user's chats, oldest first, a page at a time by (created_at, id), which never change. */
async function* ownChats(userId: string): AsyncGenerator<ExportChat> {
  let after: { createdAt: Date; id: string } | undefined;
  while (true) {
    const chats: ExportChat[] = await db().chat.findMany({
      where: {
        userId,
        ...(after && {
          OR: [{ createdAt: { gt: after.createdAt } }, { createdAt: after.createdAt, id: { gt: after.id } }],
        }),
      },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      take: CHAT_BATCH,
      select: chatSelect,
    });
    yield* chats;
    if (chats.length < CHAT_BATCH) return;
    after = chats[chats.length - 1];
  }
}

function messageBatch(chatId: string, afterId: bigint) {
  return db().message.findMany({
    where: { chatId, id: { gt: afterId } },
    orderBy: { id: "asc" },
    take: MESSAGE_BATCH,
    select: messageSelect,
  });
}

/** A chat's messages in order, MESSAGE_BATCH at a time (keyset on id, the messages_chat_id_id index). */
async function* messageBatches(chatId: string): AsyncGenerator<ExportMessage[]> {
  let afterId = 0n;
  while (true) {
    const batch = await messageBatch(chatId, afterId);
    if (batch.length > 0) yield batch;
    if (batch.length < MESSAGE_BATCH) return;
    afterId = batch[batch.length - 1].id;
  }
}

// ---------------------------------------------------------------------------------------------
// CSV (RFC 4180)

export const CSV_HEADER = [
  "chat_id",
  "chat_title",
  "message_id",
  "role",
  "content",
  "model",
  "status",
  "prompt_tokens",
  "completion_tokens",
  "created_at",
  // Last, so tools reading the earlier columns by position keep working.
  "thinking",
  // How many images the message carried (their data is in the JSON export).
  "images",
];

/**
 * One CSV field. A spreadsheet treats a cell starting with = + - @ (or tab / CR) as a formula, so
 * a message like `=HYPERLINK(...)` could run when someone opens the export: such cells get a
 * leading single quote (OWASP's CSV injection advice). Fields with a comma, quote or line break
 * are quoted, with inner quotes doubled.
 */
export function csvField(value: string | number | bigint | null | undefined): string {
  if (value === null || value === undefined) return "";
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvRow(fields: (string | number | bigint | null | undefined)[]) {
  return `${fields.map(csvField).join(",")}\r\n`;
}

// ---------------------------------------------------------------------------------------------
// The three formats, each a sequence of text chunks (one per batch of messages).

/**
 * A message as JSON. Images are included as data (`data:` URLs), so the export is complete on its
 * own and still readable after the chat is deleted; their bytes are read one message at a time,
 * never a whole batch, since a message can carry megabytes.
 */
async function jsonMessage(message: ExportMessage) {
  const images =
    message.images.length === 0
      ? []
      : (await imagesWithData(message.id)).map(({ bytes, ...image }) => ({
          ...image,
          data: `data:${image.mime};base64,${Buffer.from(bytes).toString("base64")}`,
        }));
  return JSON.stringify({ ...message, id: String(message.id), images });
}

async function* jsonChunks(chats: AsyncIterable<ExportChat>, exportedAt: Date) {
  yield `{"format":"customchatai-export","version":1,"exportedAt":${JSON.stringify(exportedAt)},"chats":[`;
  let firstChat = true;
  for await (const chat of chats) {
    // The chat object without its closing brace, then the messages array written as it is read.
    const head = JSON.stringify(chat).slice(0, -1);
    yield `${firstChat ? "" : ","}\n${head},"messages":[`;
    firstChat = false;
    let firstMessage = true;
    for await (const batch of messageBatches(chat.id)) {
      // Messages without images go out a batch at a time; one with images on its own.
      let text = "";
      for (const message of batch) {
        if (message.images.length > 0 && text) {
          yield text;
          text = "";
        }
        text += `${firstMessage ? "" : ","}\n${await jsonMessage(message)}`;
        firstMessage = false;
        if (message.images.length > 0) {
          yield text;
          text = "";
        }
      }
      if (text) yield text;
    }
    yield "]}";
  }
  yield "\n]}\n";
}

async function* csvChunks(chats: AsyncIterable<ExportChat>) {
  yield csvRow(CSV_HEADER);
  for await (const chat of chats) {
    for await (const batch of messageBatches(chat.id)) {
      yield batch
        .map((m) =>
          csvRow([
            chat.id,
            chat.title,
            m.id,
            m.role,
            m.content,
            m.model,
            m.status,
            m.promptTokens,
            m.completionTokens,
            m.createdAt.toISOString(),
            m.thinking,
            m.images.length,
          ]),
        )
        .join("");
    }
  }
}

const ROLE_NAMES = { system: "System", user: "User", assistant: "Assistant" } as const;

function utc(date: Date) {
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** Headings must stay on one line. */
function oneLine(text: string) {
  return text.replace(/\s+/g, " ").trim() || "Untitled chat";
}

/** Plain text (titles, prompts, errors): no HTML tag survives into the file. */
function escapeHtml(text: string) {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * Message text is Markdown and stays Markdown, but raw HTML in it must not become live HTML in
 * whatever renders the export (a Markdown viewer, a static site): `<` is escaped everywhere except
 * inside fenced code blocks and inline code spans, where Markdown already shows it literally.
 */
export function neutraliseHtml(markdown: string) {
  let fence: string | null = null;
  return markdown
    .split("\n")
    .map((line) => {
      const marker = line.match(/^ {0,3}(`{3,}|~{3,})/)?.[1];
      if (fence) {
        if (marker && marker[0] === fence[0] && marker.length >= fence.length) fence = null;
        return line;
      }
      if (marker) {
        fence = marker;
        return line;
      }
      return line
        .split(/(`+[^`]*?`+)/)
        .map((part, index) => (index % 2 === 1 ? part : part.replace(/</g, "&lt;")))
        .join("");
    })
    .join("\n");
}

/** A reasoning model's thinking as a quote above the answer, raw HTML neutralised like the answer. */
function markdownThinking(message: ExportMessage) {
  if (!message.thinking) return "";
  const seconds = message.thinkingMs === null ? "" : ` (${(message.thinkingMs / 1000).toFixed(1)} s)`;
  const quoted = neutraliseHtml(message.thinking)
    .split("\n")
    .map((line) => (line ? `> ${line}` : ">"))
    .join("\n");
  return `> **Thinking**${seconds}\n>\n${quoted}\n\n`;
}

function markdownMessage(message: ExportMessage) {
  const who =
    ROLE_NAMES[message.role] + (message.role === "assistant" && message.model ? ` (${message.model})` : "");
  const status = message.status === "complete" ? "" : ` · ${message.status}`;
  const error = message.error ? `\n\n> Error: ${escapeHtml(oneLine(message.error))}` : "";
  const count = message.images.length;
  // The pictures themselves are in the JSON export.
  const images = count ? `\n\n_[${count} image${count === 1 ? "" : "s"} attached]_` : "";
  return `## ${who} · ${utc(message.createdAt)}${status}\n\n${markdownThinking(message)}${neutraliseHtml(message.content)}${images}${error}\n\n`;
}

async function* markdownChunks(chats: AsyncIterable<ExportChat>) {
  let first = true;
  for await (const chat of chats) {
    const system = chat.systemPrompt ? `**System prompt:** ${neutraliseHtml(chat.systemPrompt)}\n\n` : "";
    yield `${first ? "" : "\n---\n\n"}# ${escapeHtml(oneLine(chat.title))}\n\n` +
      `Model: ${chat.model} · Created: ${utc(chat.createdAt)} · Chat id: ${chat.id}\n\n${system}`;
    first = false;
    for await (const batch of messageBatches(chat.id)) yield batch.map(markdownMessage).join("");
  }
}

// ---------------------------------------------------------------------------------------------

/** A pull-based stream over text chunks: the next batch is read only when the client wants more. */
function streamOf(chunks: AsyncGenerator<string>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    async pull(controller) {
      try {
        const { value, done } = await chunks.next();
        if (done) controller.close();
        else controller.enqueue(encoder.encode(value));
      } catch (error) {
        // The status line went out with the first byte; all that is left is to cut the download
        // short (the client sees an incomplete body, not a silently truncated "complete" file).
        log.error("export failed", errorFields(error));
        controller.error(error);
      }
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
}

/** `attachment` with an ASCII file name for every client, and the full name for those reading filename*. */
function contentDisposition(base: string, format: ExportFormat) {
  const cleaned = base
    .normalize("NFC")
    .replace(/[\p{Cc}\\/:*?"<>|]+/gu, "")
    .replace(/\s+/g, "-");
  // By code point, so a character outside the BMP is never cut in half.
  const name = Array.from(cleaned).slice(0, 80).join("");
  const ascii = name
    .normalize("NFKD")
    .replace(/[^\w.-]+/g, "")
    .replace(/-{2,}/g, "-")
    .replace(/^-+|-+$/g, "");
  const encoded = encodeURIComponent(`${name}.${format}`).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16)}`,
  );
  return `attachment; filename="${ascii || "chat"}.${format}"; filename*=UTF-8''${encoded}`;
}

export interface ExportTarget {
  userId: string;
  /** One chat (already checked to be the user's, see findOwnChat), or every chat of the user. */
  chat?: ExportChat;
}

/** The export as a streamed Response. */
export function exportResponse({ userId, chat }: ExportTarget, format: ExportFormat): Response {
  const exportedAt = new Date();
  const chats = chat ? singleChat(chat) : ownChats(userId);
  const chunks =
    format === "json"
      ? jsonChunks(chats, exportedAt)
      : format === "csv"
        ? csvChunks(chats)
        : markdownChunks(chats);
  const base = chat
    ? `customchatai-${chat.title.trim() || "chat"}`
    : `customchatai-chats-${exportedAt.toISOString().slice(0, 10)}`;
  return new Response(streamOf(chunks), {
    headers: {
      "Content-Type": CONTENT_TYPES[format],
      "Content-Disposition": contentDisposition(base, format),
      "Cache-Control": "private, no-store",
      "X-Content-Type-Options": "nosniff",
      // Behind nginx: pass chunks on as they come instead of buffering the whole export.
      "X-Accel-Buffering": "no",
    },
  });
}

async function* singleChat(chat: ExportChat) {
  yield chat;
}
