import type { Prisma } from "~/generated/prisma/client";
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

export async function saveResponse(stored: StoredResponse) {
  await db().apiResponse.create({
    data: {
      id: stored.id,
      userId: stored.userId,
      keyId: stored.keyId,
      previousResponseId: stored.previousResponseId,
      input: stored.input as unknown as Prisma.InputJsonValue,
      response: stored.response as Prisma.InputJsonValue,
    },
    select: { id: true },
  });
  void pruneIfDue();
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
