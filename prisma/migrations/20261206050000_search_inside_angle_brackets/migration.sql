-- PostgreSQL's text-search parser reads "<img src=x onerror=...>" as one HTML tag token and leaves
-- it out of the vector, so words written inside angle brackets could not be found. The brackets
-- become spaces before parsing. Generated columns cannot be altered in place: dropped and re-added
-- (this rewrites both tables once).
DROP INDEX "chats_search_vector_idx";
ALTER TABLE "chats" DROP COLUMN "search_vector";
ALTER TABLE "chats" ADD COLUMN "search_vector" tsvector
  GENERATED ALWAYS AS (to_tsvector('simple', translate("title", '<>', '  '))) STORED;
CREATE INDEX "chats_search_vector_idx" ON "chats" USING GIN ("search_vector");

DROP INDEX "messages_search_vector_idx";
ALTER TABLE "messages" DROP COLUMN "search_vector";
ALTER TABLE "messages" ADD COLUMN "search_vector" tsvector
  GENERATED ALWAYS AS (to_tsvector('simple', translate("content", '<>', '  '))) STORED;
CREATE INDEX "messages_search_vector_idx" ON "messages" USING GIN ("search_vector");
