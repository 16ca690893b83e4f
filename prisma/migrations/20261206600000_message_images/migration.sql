-- CreateTable
CREATE TABLE "message_images" (
    "id" TEXT NOT NULL,
    "message_id" BIGINT NOT NULL,
    "position" INTEGER NOT NULL,
    "mime" TEXT NOT NULL,
    "bytes" BYTEA NOT NULL,
    "size" INTEGER NOT NULL,
    "width" INTEGER,
    "height" INTEGER,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "message_images_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "message_images_message_id_position_key" ON "message_images"("message_id", "position");

-- AddForeignKey
ALTER TABLE "message_images" ADD CONSTRAINT "message_images_message_id_fkey" FOREIGN KEY ("message_id") REFERENCES "messages"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- PNG, JPEG and WebP are compressed already: store them out of line without trying to compress them again.
ALTER TABLE "message_images" ALTER COLUMN "bytes" SET STORAGE EXTERNAL;
