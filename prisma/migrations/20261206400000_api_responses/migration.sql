-- CreateTable
CREATE TABLE "api_responses" (
    "id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "key_id" TEXT NOT NULL,
    "previous_response_id" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "input" JSONB NOT NULL,
    "response" JSONB NOT NULL,

    CONSTRAINT "api_responses_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "api_responses_created_at_idx" ON "api_responses"("created_at");

-- CreateIndex
CREATE INDEX "api_responses_key_id_idx" ON "api_responses"("key_id");

-- CreateIndex
CREATE INDEX "api_responses_user_id_idx" ON "api_responses"("user_id");

-- AddForeignKey
ALTER TABLE "api_responses" ADD CONSTRAINT "api_responses_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "api_responses" ADD CONSTRAINT "api_responses_key_id_fkey" FOREIGN KEY ("key_id") REFERENCES "api_keys"("id") ON DELETE CASCADE ON UPDATE CASCADE;

