import { Prisma } from "~/generated/prisma/client";
import { db } from "../db.server";
import { env } from "../env.server";
import { errorFields, log } from "../log.server";
import type { Item } from "../openai/responses-request.server";

/**
 * Stored Responses API responses (table api_responses), so that `previous_response_id` and
 * GET /responses/{id} work from any replica. Every lookup is by id AND the API key that created
 * the response: another key's id is simply not found. Rows older than RESPONSES_RETENTION_DAYS
 * are treated as gone at once and deleted at most hourly, by whichever replica stores next.
 */

const PRUNE_EVERY_MS = 3_600_000;
/** A guard against a pathological chain; far more turns than any model's context holds. */
const MAX_CHAIN = 1000;
let lastPrune = 0;

function cutoff() {
  return new Date(Date.now() - env().RESPONSES_RETENTION_DAYS * 86_400_000);
}

export interface StoredResponse {
  id: string;
  userId: string;
  keyId: string;
  previousResponseId: string | null;
  input: Item[];
  response: Record<string, unknown>;
}

/**
 * Stores a response; resolves once it is committed, so that the client may read it back at once
 * from any replica. Concurrent calls share one multi-row INSERT (the next one collects while the
 * current one runs): under load that is one round trip and one commit for many responses, instead
 * of one each through a small connection pool; alone, a call is written at once.
 */
export function saveResponse(stored: StoredResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    queue.push({ row: stored, resolve, reject });
    if (!writing) void writeQueued();
  });
}

const MAX_BATCH = 200;
const queue: Array<{ row: StoredResponse; resolve: () => void; reject: (error: unknown) => void }> = [];
let writing = false;

async function writeQueued() {
  writing = true;
  try {
    while (queue.length) {
      const batch = queue.splice(0, MAX_BATCH);
      try {
        await insertRows(batch.map((entry) => entry.row));
        for (const entry of batch) entry.resolve();
      } catch (error) {
        if (batch.length === 1) {
          batch[0].reject(error);
          continue;
        }
        // One bad row (its user deleted meanwhile, say) must not fail the others: one at a time.
        for (const entry of batch) {
          await insertRows([entry.row]).then(entry.resolve, entry.reject);
        }
      }
    }
  } finally {
    writing = false;
  }
  void pruneIfDue();
}

function insertRows(rows: StoredResponse[]) {
  const at = new Date().toISOString();
  const values = Prisma.join(
    rows.map(
      (row) =>
        Prisma.sql`(${row.id}::text, ${row.userId}::text, ${row.keyId}::text, ${row.previousResponseId}::text, ${at}::timestamp, ${JSON.stringify(row.input)}::jsonb, ${JSON.stringify(row.response)}::jsonb)`,
    ),
  );
  return db().$executeRaw`
    INSERT INTO api_responses (id, user_id, key_id, previous_response_id, created_at, input, response)
    VALUES ${values}`;
}

/** The Response object, if this key stored it and it has not expired. */
export async function findResponse(keyId: string, id: string) {
  const row = await db().apiResponse.findFirst({
    where: { id, keyId, createdAt: { gte: cutoff() } },
    select: { response: true },
  });
  return (row?.response as Record<string, unknown> | undefined) ?? null;
}

export async function findInputItems(keyId: string, id: string) {
  const row = await db().apiResponse.findFirst({
    where: { id, keyId, createdAt: { gte: cutoff() } },
    select: { input: true },
  });
  return row ? (row.input as unknown as Item[]) : null;
}

export async function deleteResponse(keyId: string, id: string) {
  const deleted = await db().apiResponse.deleteMany({ where: { id, keyId, createdAt: { gte: cutoff() } } });
  return deleted.count > 0;
}

/**
 * The conversation up to and including response `id`: every response of the chain, oldest first,
 * each as its input items followed by its output items. Null when `id` is not this key's (or has
 * expired). One query, however long the chain; a deleted or expired earlier response ends it there.
 */
export async function loadConversation(keyId: string, id: string): Promise<Item[] | null> {
  const since = cutoff();
  const rows = await db().$queryRaw<Array<{ input: Item[]; output: Item[] }>>`
    WITH RECURSIVE chain AS (
      SELECT id, previous_response_id, input, response -> 'output' AS output, 0 AS depth
      FROM api_responses WHERE id = ${id} AND key_id = ${keyId} AND created_at >= ${since}
      UNION ALL
      SELECT r.id, r.previous_response_id, r.input, r.response -> 'output', c.depth + 1
      FROM api_responses r JOIN chain c ON r.id = c.previous_response_id
      WHERE r.key_id = ${keyId} AND r.created_at >= ${since} AND c.depth < ${MAX_CHAIN}
    )
    SELECT input, output FROM chain ORDER BY depth DESC`;
  if (!rows.length) return null;
  return rows.flatMap((row) => [...row.input, ...(row.output ?? [])]);
}

async function pruneIfDue() {
  const now = Date.now();
  if (now - lastPrune < PRUNE_EVERY_MS) return;
  lastPrune = now;
  try {
    const pruned = await db().apiResponse.deleteMany({ where: { createdAt: { lt: cutoff() } } });
    if (pruned.count) log.info("stored api responses pruned", { responses: pruned.count });
  } catch (error) {
    log.warn("could not prune stored api responses", errorFields(error));
  }
}
