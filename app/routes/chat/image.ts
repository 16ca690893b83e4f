import { requireUser } from "~/server/auth.server";
import { findOwnImage } from "~/server/chat/images.server";
import type { Route } from "./+types/image";

/** GET /chat/:chatId/images/:imageId: an image attached to a message of the user's own chat. */
export async function loader({ request, params }: Route.LoaderArgs) {
  const user = await requireUser(request);
  const image = await findOwnImage(user.id, params.chatId, params.imageId);
  // Someone else's image gets exactly the answer a missing one does.
  if (!image) return new Response("There is no such image.", { status: 404 });
  return new Response(image.bytes, {
    headers: {
      "Content-Type": image.mime,
      "Content-Length": String(image.size),
      // An id always names the same bytes, but only this user may see them: no shared cache.
      "Cache-Control": "private, max-age=31536000, immutable",
      "X-Content-Type-Options": "nosniff",
      "Content-Security-Policy": "default-src 'none'; sandbox",
      "Content-Disposition": "inline",
    },
  });
}
