import { requireUser } from "~/server/auth.server";
import { findOwnImage, ownsImage } from "~/server/chat/images.server";
import type { Route } from "./+types/image";

const notFound = () => new Response("There is no such image.", { status: 404 });

/** GET /chat/:chatId/images/:imageId: an image attached to a message of the user's own chat. */
export async function loader({ request, params }: Route.LoaderArgs) {
  const user = await requireUser(request);
  // An id always names the same bytes, so the browser may keep them, but it asks again each time
  // (no-cache): after signing out or deleting the chat, a shared computer shows nothing from its
  // cache. Asking costs a 304 once the owner is checked. Only this user may see them: private.
  const etag = `"img-${params.imageId}"`;
  const caching = { ETag: etag, "Cache-Control": "private, no-cache" };
  if (request.headers.get("if-none-match") === etag) {
    // Someone else's image gets exactly the answer a missing one does.
    if (!(await ownsImage(user.id, params.chatId, params.imageId))) return notFound();
    return new Response(null, { status: 304, headers: caching });
  }
  const image = await findOwnImage(user.id, params.chatId, params.imageId);
  if (!image) return notFound();
  return new Response(image.bytes, {
    headers: {
      "Content-Type": image.mime,
      "Content-Length": String(image.size),
      ...caching,
      "X-Content-Type-Options": "nosniff",
      "Content-Security-Policy": "default-src 'none'; sandbox",
      "Content-Disposition": "inline",
    },
  });
}
