-- CreateEnum
CREATE TYPE "UsageSource" AS ENUM ('chat', 'api');

-- CreateTable
CREATE TABLE "usage_model_daily" (
    "day" DATE NOT NULL,
    "source" "UsageSource" NOT NULL,
    "model" TEXT NOT NULL,
    "requests" INTEGER NOT NULL DEFAULT 0,
    "errors" INTEGER NOT NULL DEFAULT 0,
    "prompt_tokens" BIGINT NOT NULL DEFAULT 0,
    "completion_tokens" BIGINT NOT NULL DEFAULT 0,
    "latency_ms_total" BIGINT NOT NULL DEFAULT 0,
    "latency_buckets" INTEGER[] DEFAULT ARRAY[]::INTEGER[],

    CONSTRAINT "usage_model_daily_pkey" PRIMARY KEY ("day","source","model")
);

-- CreateTable
CREATE TABLE "usage_user_daily" (
    "day" DATE NOT NULL,
    "source" "UsageSource" NOT NULL,
    "user_id" TEXT NOT NULL,
    "requests" INTEGER NOT NULL DEFAULT 0,
    "errors" INTEGER NOT NULL DEFAULT 0,
    "prompt_tokens" BIGINT NOT NULL DEFAULT 0,
    "completion_tokens" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "usage_user_daily_pkey" PRIMARY KEY ("day","source","user_id")
);

-- CreateTable
CREATE TABLE "usage_user_monthly" (
    "month" DATE NOT NULL,
    "source" "UsageSource" NOT NULL,
    "user_id" TEXT NOT NULL,
    "requests" INTEGER NOT NULL DEFAULT 0,
    "errors" INTEGER NOT NULL DEFAULT 0,
    "prompt_tokens" BIGINT NOT NULL DEFAULT 0,
    "completion_tokens" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "usage_user_monthly_pkey" PRIMARY KEY ("month","source","user_id")
);

-- CreateTable
CREATE TABLE "audit_events" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor_id" TEXT,
    "actor_email" TEXT,
    "action" TEXT NOT NULL,
    "target_type" TEXT,
    "target_id" TEXT,
    "before" JSONB,
    "after" JSONB,
    "ip" TEXT,

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "usage_user_daily_user_id_idx" ON "usage_user_daily"("user_id");

-- CreateIndex
CREATE INDEX "usage_user_monthly_user_id_idx" ON "usage_user_monthly"("user_id");

-- CreateIndex
CREATE INDEX "audit_events_action_id_idx" ON "audit_events"("action", "id" DESC);

-- CreateIndex
CREATE INDEX "audit_events_actor_email_id_idx" ON "audit_events"("actor_email", "id" DESC);

-- CreateIndex
CREATE INDEX "audit_events_at_idx" ON "audit_events"("at");

-- AddForeignKey
ALTER TABLE "usage_user_daily" ADD CONSTRAINT "usage_user_daily_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "usage_user_monthly" ADD CONSTRAINT "usage_user_monthly_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- The audit log is append-only, for the application's own connection too: a trigger is used
-- rather than REVOKE because the app usually connects as the tables' owner (and PGlite has a
-- single superuser), for whom privileges cannot be taken away. Only an operator who drops the
-- trigger on purpose can change past records.
CREATE FUNCTION "audit_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER "audit_events_no_update_or_delete" BEFORE UPDATE OR DELETE ON "audit_events"
    FOR EACH ROW EXECUTE FUNCTION "audit_events_append_only"();

CREATE TRIGGER "audit_events_no_truncate" BEFORE TRUNCATE ON "audit_events"
    FOR EACH STATEMENT EXECUTE FUNCTION "audit_events_append_only"();

-- Backfill the admin roll-ups with the counts recorded before them: API calls from usage_daily,
-- chat replies from messages (a one-off scan, here and never again). Latency buckets stay empty
-- for these days, so their percentiles show as unknown rather than made up.
INSERT INTO "usage_model_daily" ("day", "source", "model", "requests", "errors", "prompt_tokens", "completion_tokens", "latency_ms_total", "latency_buckets")
SELECT "day", 'api', "model", sum("requests"), sum("errors"), sum("prompt_tokens"), sum("completion_tokens"), sum("latency_ms_total"), ARRAY[]::INTEGER[]
FROM "usage_daily" GROUP BY "day", "model";

INSERT INTO "usage_user_daily" ("day", "source", "user_id", "requests", "errors", "prompt_tokens", "completion_tokens")
SELECT "day", 'api', "user_id", sum("requests"), sum("errors"), sum("prompt_tokens"), sum("completion_tokens")
FROM "usage_daily" GROUP BY "day", "user_id";

CREATE TEMPORARY TABLE "chat_replies" AS
SELECT "m"."created_at"::date AS "day", "c"."user_id", coalesce("m"."model", "c"."model") AS "model",
       ("m"."status" = 'failed') AS "failed", coalesce("m"."prompt_tokens", 0) AS "prompt_tokens",
       coalesce("m"."completion_tokens", 0) AS "completion_tokens", coalesce("m"."total_ms", 0) AS "total_ms"
FROM "messages" "m" JOIN "chats" "c" ON "c"."id" = "m"."chat_id"
WHERE "m"."role" = 'assistant' AND "m"."status" <> 'streaming';

INSERT INTO "usage_model_daily" ("day", "source", "model", "requests", "errors", "prompt_tokens", "completion_tokens", "latency_ms_total", "latency_buckets")
SELECT "day", 'chat', "model", count(*), count(*) FILTER (WHERE "failed"), sum("prompt_tokens"), sum("completion_tokens"), sum("total_ms"), ARRAY[]::INTEGER[]
FROM "chat_replies" GROUP BY "day", "model";

INSERT INTO "usage_user_daily" ("day", "source", "user_id", "requests", "errors", "prompt_tokens", "completion_tokens")
SELECT "day", 'chat', "user_id", count(*), count(*) FILTER (WHERE "failed"), sum("prompt_tokens"), sum("completion_tokens")
FROM "chat_replies" GROUP BY "day", "user_id";

DROP TABLE "chat_replies";

INSERT INTO "usage_user_monthly" ("month", "source", "user_id", "requests", "errors", "prompt_tokens", "completion_tokens")
SELECT date_trunc('month', "day")::date, "source", "user_id", sum("requests"), sum("errors"), sum("prompt_tokens"), sum("completion_tokens")
FROM "usage_user_daily" GROUP BY 1, "source", "user_id";
