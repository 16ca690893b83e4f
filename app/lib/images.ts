/**
 * Limits for images attached to chat messages (vision models), shared by the composer (to warn
 * before uploading) and the server (which enforces them: docs/decisions/0006).
 */

/** The only types accepted, recognised on the server by their first bytes, never by name or claim. */
export const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp"] as const;
export type ImageMime = (typeof IMAGE_TYPES)[number];

/** Per image: far above a phone photo re-encoded by a browser, small enough to keep in PostgreSQL. */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

/** Per message: each image costs the model hundreds of context tokens, and Ollama memory. */
export const MAX_IMAGES_PER_MESSAGE = 4;

export const IMAGE_ACCEPT = IMAGE_TYPES.join(",");

export function formatImageBytes(bytes: number) {
  return bytes >= 1024 * 1024
    ? `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`
    : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

export const IMAGE_LIMITS_TEXT = `PNG, JPEG or WebP, up to ${MAX_IMAGES_PER_MESSAGE} images of ${formatImageBytes(MAX_IMAGE_BYTES)} each`;
