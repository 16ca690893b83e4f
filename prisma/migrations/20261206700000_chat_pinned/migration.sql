-- AlterTable
ALTER TABLE "chats" ADD COLUMN     "pinned_at" TIMESTAMP(3);

-- CreateIndex
CREATE INDEX "chats_user_id_pinned_at_idx" ON "chats"("user_id", "pinned_at");

