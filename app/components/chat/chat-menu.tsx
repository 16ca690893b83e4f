import { Form, Link } from "react-router";
import { useCloseOnNavigation } from "../disclosure";

const itemClass =
  "block w-full rounded px-3 py-2 text-left text-sm hover:bg-zinc-100 focus-visible:bg-zinc-100 dark:hover:bg-zinc-800 dark:focus-visible:bg-zinc-800";

const exportFormats = [
  ["md", "Markdown"],
  ["json", "JSON"],
  ["csv", "CSV"],
] as const;

/**
 * Everything one does to a chat as a whole, where ChatGPT keeps it: the "…" menu in the chat's
 * header. A <details> dropdown of links and small forms, so it works without JavaScript.
 */
export function ChatMenu({ chatId, pinned }: { chatId: string; pinned: boolean }) {
  const menu = useCloseOnNavigation<HTMLDetailsElement>();
  return (
    <details ref={menu} className="relative" data-testid="chat-menu">
      <summary
        className="flex h-8 w-9 cursor-pointer list-none items-center justify-center rounded text-lg hover:bg-zinc-100 dark:hover:bg-zinc-800 [&::-webkit-details-marker]:hidden"
        aria-label="Chat actions"
        title="Chat actions"
      >
        <span aria-hidden="true">⋯</span>
      </summary>
      <div className="absolute top-full right-0 z-20 mt-1 w-64 rounded-lg border border-zinc-200 bg-white p-1 shadow-lg dark:border-zinc-700 dark:bg-zinc-900">
        <Link to="?rename=1" className={itemClass}>
          Rename
        </Link>
        <Form method="post">
          <input type="hidden" name="intent" value="pin" />
          <button type="submit" name="pinned" value={pinned ? "off" : "on"} className={itemClass}>
            {pinned ? "Unpin" : "Pin to the top"}
          </button>
        </Form>
        <Link to="?settings=1" className={itemClass}>
          System prompt and parameters
        </Link>
        <div className="my-1 border-t border-zinc-200 dark:border-zinc-700" />
        <p className="px-3 pt-1 text-xs text-zinc-600 dark:text-zinc-400">Export</p>
        {exportFormats.map(([format, label]) => (
          <a key={format} href={`/chat/${chatId}/export?format=${format}`} download className={itemClass}>
            {label}
          </a>
        ))}
        <div className="my-1 border-t border-zinc-200 dark:border-zinc-700" />
        <Link to="?delete=1" className={`${itemClass} text-red-700 dark:text-red-400`}>
          Delete
        </Link>
      </div>
    </details>
  );
}
