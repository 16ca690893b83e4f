-- AlterTable
ALTER TABLE "chats" ADD COLUMN     "options" JSONB,
ADD COLUMN     "think" BOOLEAN NOT NULL DEFAULT true;

-- AlterTable
ALTER TABLE "messages" ADD COLUMN     "thinking" TEXT,
ADD COLUMN     "thinking_ms" INTEGER;
