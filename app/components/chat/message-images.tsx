/** What the page knows of an image attached to a message; the bytes come from its own URL. */
export interface MessageImageView {
  id: string;
  width: number | null;
  height: number | null;
}

/** Thumbnails of a user message's images, each a link to the full picture. */
export function MessageImages({ chatId, images }: { chatId: string; images?: MessageImageView[] }) {
  if (!images?.length) return null;
  return (
    <ul className="mb-2 flex flex-wrap gap-2" aria-label="Attached images">
      {images.map((image, index) => {
        const src = `/chat/${chatId}/images/${image.id}`;
        return (
          <li key={image.id}>
            <a href={src} target="_blank" rel="noreferrer" className="block">
              <img
                src={src}
                // The header's size lets the browser reserve the thumbnail's box before it loads.
                width={image.width ?? undefined}
                height={image.height ?? undefined}
                alt={`Attachment ${index + 1} of ${images.length}`}
                loading="lazy"
                className="h-20 w-auto max-w-40 rounded sm:h-28 border border-zinc-300 object-cover dark:border-zinc-700"
                data-testid="message-image"
              />
            </a>
          </li>
        );
      })}
    </ul>
  );
}
