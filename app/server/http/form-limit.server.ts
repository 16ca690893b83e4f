import { MAX_IMAGE_BYTES, MAX_IMAGES_PER_MESSAGE } from "~/lib/images";
import { env } from "../env.server";

/**
 * How large a page form may be. Message forms on /chat and /chat/:id that are multipart may carry
 * images too, so they get room for the most images allowed, plus the multipart framing; anything
 * else keeps MAX_FORM_BYTES. Checked before any route runs (node-pages.server.ts).
 */
export function formBodyLimit(pathname: string, contentType: string | undefined) {
  const base = env().MAX_FORM_BYTES;
  if (!/^multipart\/form-data\b/i.test(contentType ?? "")) return base;
  // With JavaScript, React Router posts to the same path plus ".data" (/chat.data, /chat/<id>.data).
  if (!/^\/chat(?:\/[^/.]+)?(?:\.data)?\/?$/.test(pathname) || /^\/chat\/export\b/.test(pathname))
    return base;
  return base + MAX_IMAGES_PER_MESSAGE * (MAX_IMAGE_BYTES + 4096);
}
