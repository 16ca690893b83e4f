import type { TestDatabase } from "./database";

/** Chats and messages are written with SQL: these tests need data, not the chat UI. */
export interface SeedMessage {
  role?: "system" | "user" | "assistant";
  content: string;
  status?: "streaming" | "complete" | "stopped" | "failed";
  model?: string | null;
  promptTokens?: number | null;
  completionTokens?: number | null;
  error?: string | null;
  createdAt?: Date;
}

export async function userId(database: TestDatabase, email: string): Promise<string> {
  const [row] = await database.query<{ id: string }>("SELECT id FROM users WHERE email = $1", [email]);
  if (!row) throw new Error(`no user ${email}`);
  return row.id;
}

let chatCounter = 0;

/** Inserts a chat and its messages (in order); returns the chat id and the message ids as strings. */
export async function seedChat(
  database: TestDatabase,
  owner: string,
  title: string,
  messages: SeedMessage[] = [],
  { systemPrompt = null as string | null, updatedAt = undefined as Date | undefined } = {},
): Promise<{ chatId: string; messageIds: string[] }> {
  const chatId = `chat_${Date.now().toString(36)}_${++chatCounter}_${Math.random().toString(36).slice(2, 8)}`;
  await database.query(
    `INSERT INTO chats (id, user_id, title, model, system_prompt, updated_at)
     VALUES ($1, $2, $3, 'llama3.2:latest', $4, coalesce($5, now()))`,
    [chatId, owner, title, systemPrompt, updatedAt ?? null],
  );
  const messageIds: string[] = [];
  for (const message of messages) {
    const [row] = await database.query<{ id: string }>(
      `INSERT INTO messages (chat_id, role, content, status, model, prompt_tokens, completion_tokens, error, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce($9, now())) RETURNING id::text`,
      [
        chatId,
        message.role ?? "user",
        message.content,
        message.status ?? "complete",
        message.model ?? null,
        message.promptTokens ?? null,
        message.completionTokens ?? null,
        message.error ?? null,
        message.createdAt ?? null,
      ],
    );
    messageIds.push(row.id);
  }
  return { chatId, messageIds };
}

/** `count` messages in one statement (generate_series), for volume tests. */
export async function seedManyMessages(
  database: TestDatabase,
  chatId: string,
  count: number,
  content: string,
) {
  await database.query(
    `INSERT INTO messages (chat_id, role, content, created_at)
     SELECT $1, CASE WHEN g % 2 = 1 THEN 'user' ELSE 'assistant' END::"MessageRole",
            $3 || ' ' || g, now() - interval '1 day' + g * interval '1 millisecond'
     FROM generate_series(1, $2::int) g`,
    [chatId, count, content],
  );
}
