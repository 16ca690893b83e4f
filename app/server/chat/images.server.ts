import {
  formatImageBytes,
  IMAGE_LIMITS_TEXT,
  type ImageMime,
  MAX_IMAGE_BYTES,
  MAX_IMAGES_PER_MESSAGE,
} from "~/lib/images";
import { db } from "../db.server";
import { modelDetails } from "../ollama/client.server";
import { modelChoices } from "./models.server";

/** An image checked and ready to store with a message. */
export interface ImageUpload {
  mime: ImageMime;
  bytes: Uint8Array<ArrayBuffer>;
  width: number | null;
  height: number | null;
}

/**
 * The type of an image from its first bytes, with its size in pixels when the header says it
 * cheaply; null for anything that is not PNG, JPEG or WebP (a GIF, an SVG, a text file renamed
 * .png): what the browser or the file name claims is never trusted.
 */
export function sniffImage(bytes: Uint8Array): Omit<ImageUpload, "bytes"> | null {
  const at = (offset: number, text: string) =>
    [...text].every((char, index) => bytes[offset + index] === char.charCodeAt(0));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const size = (read: () => [number, number]) => {
    try {
      const [width, height] = read();
      return width > 0 && height > 0 ? { width, height } : { width: null, height: null };
    } catch {
      return { width: null, height: null };
    }
  };

  if (bytes.length >= 8 && at(0, "\x89PNG\r\n\x1a\n")) {
    // The IHDR chunk comes first: width and height, big-endian, at 16 and 20.
    return { mime: "image/png", ...size(() => [view.getUint32(16), view.getUint32(20)]) };
  }
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) {
    return { mime: "image/jpeg", ...size(() => jpegSize(bytes, view)) };
  }
  if (bytes.length >= 16 && at(0, "RIFF") && at(8, "WEBP")) {
    return { mime: "image/webp", ...size(() => webpSize(bytes, view)) };
  }
  return null;
}

/** Walks the JPEG segments to the first start-of-frame marker, which holds height then width. */
function jpegSize(bytes: Uint8Array, view: DataView): [number, number] {
  let offset = 2;
  while (offset + 9 < bytes.length) {
    if (bytes[offset] !== 0xff) break;
    const marker = bytes[offset + 1];
    // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC), which share the range.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return [view.getUint16(offset + 7), view.getUint16(offset + 5)];
    }
    offset += 2 + view.getUint16(offset + 2);
  }
  return [0, 0];
}

function webpSize(bytes: Uint8Array, view: DataView): [number, number] {
  const chunk = String.fromCharCode(...bytes.subarray(12, 16));
  if (chunk === "VP8X") {
    // Canvas size minus one, 24-bit little-endian.
    const u24 = (offset: number) => bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16);
    return [u24(24) + 1, u24(27) + 1];
  }
  if (chunk === "VP8 ") return [view.getUint16(26, true) & 0x3fff, view.getUint16(28, true) & 0x3fff];
  if (chunk === "VP8L") {
    const bits = view.getUint32(21, true);
    return [(bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1];
  }
  return [0, 0];
}

export type ImageReading = { images: ImageUpload[] } | { error: string };

/**
 * The `images` files of a message form, checked: how many, how big, what type. An empty file part
 * is what a browser sends for a file input left empty, and is skipped. Nothing is stored here; the
 * first problem found is returned as a sentence for the form.
 */
export async function readImageUploads(form: FormData): Promise<ImageReading> {
  const entries = form.getAll("images").filter((entry) => !(typeof entry === "string" && entry === ""));
  const files: File[] = [];
  for (const entry of entries) {
    if (typeof entry === "string") return { error: "Attach images as files." };
    if (entry.size === 0 && entry.name === "") continue;
    files.push(entry);
  }
  if (files.length > MAX_IMAGES_PER_MESSAGE) {
    return {
      error: `You attached ${files.length} images; a message can carry at most ${MAX_IMAGES_PER_MESSAGE}.`,
    };
  }
  const images: ImageUpload[] = [];
  for (const file of files) {
    const name = file.name ? `“${file.name}”` : "An image";
    if (file.size > MAX_IMAGE_BYTES) {
      return {
        error: `${name} is larger than ${formatImageBytes(MAX_IMAGE_BYTES)}, the most an image can be. Attach a smaller copy.`,
      };
    }
    const bytes = new Uint8Array(await file.arrayBuffer());
    if (bytes.length === 0) return { error: `${name} is empty.` };
    const sniffed = sniffImage(bytes);
    if (!sniffed) return { error: `${name} is not a PNG, JPEG or WebP image. Attach ${IMAGE_LIMITS_TEXT}.` };
    images.push({ ...sniffed, bytes });
  }
  return { images };
}

/**
 * Why `model` cannot take these images, or undefined when it can (or there are none). Vision is
 * Ollama's `vision` capability from /api/show; the refusal names vision models the user can pick.
 */
export async function visionRefusal(userId: string, model: string, images: ImageUpload[]) {
  if (images.length === 0) return undefined;
  const details = await modelDetails(model).catch(() => undefined);
  if (!details) return `Could not check whether ${model} can see images (Ollama did not answer). Try again.`;
  if (details.capabilities.includes("vision")) return undefined;
  const { models } = await modelChoices(userId);
  const seeing = (
    await Promise.all(
      models.map(async (candidate) =>
        (await modelDetails(candidate.name).catch(() => undefined))?.capabilities.includes("vision")
          ? (candidate.displayName ?? candidate.name)
          : null,
      ),
    )
  ).filter((name): name is string => name !== null);
  return seeing.length > 0
    ? `${model} cannot see images. Choose a vision model such as ${seeing.slice(0, 3).join(", ")}, or remove the images.`
    : `${model} cannot see images, and no installed model can. Remove the images, or ask an administrator to add a vision model (such as llava or gemma3).`;
}

/** An image of a chat of `userId`, or null: another user's image looks exactly like a missing one. */
export function findOwnImage(userId: string, chatId: string, imageId: string) {
  return db().messageImage.findFirst({
    where: ownImage(userId, chatId, imageId),
    select: { mime: true, bytes: true, size: true },
  });
}

/** Whether the image is in the user's chat, without reading its bytes (for a 304). */
export async function ownsImage(userId: string, chatId: string, imageId: string) {
  return (await db().messageImage.count({ where: ownImage(userId, chatId, imageId) })) === 1;
}

const ownImage = (userId: string, chatId: string, imageId: string) => ({
  id: imageId,
  message: { chatId, chat: { id: chatId, userId } },
});

/** Images of these messages, base64 for Ollama's `images`, grouped by message, in attached order. */
export async function imagesForOllama(messageIds: bigint[]) {
  const byMessage = new Map<bigint, string[]>();
  if (messageIds.length === 0) return byMessage;
  const rows = await db().messageImage.findMany({
    where: { messageId: { in: messageIds } },
    orderBy: [{ messageId: "asc" }, { position: "asc" }],
    select: { messageId: true, bytes: true },
  });
  for (const row of rows) {
    const list = byMessage.get(row.messageId) ?? [];
    list.push(Buffer.from(row.bytes).toString("base64"));
    byMessage.set(row.messageId, list);
  }
  return byMessage;
}

/** Images of one message with their data, for the JSON export (one message at a time: they are big). */
export function imagesWithData(messageId: bigint) {
  return db().messageImage.findMany({
    where: { messageId },
    orderBy: { position: "asc" },
    select: { id: true, mime: true, size: true, width: true, height: true, bytes: true },
  });
}
