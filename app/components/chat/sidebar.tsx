import { Link, NavLink } from "react-router";

export interface SidebarChat {
  id: string;
  title: string;
}

export interface SidebarGroup {
  name: string;
  chats: SidebarChat[];
}

function ChatLink({ chat }: { chat: SidebarChat }) {
  return (
    <li>
      <NavLink
        // #latest: without JavaScript the browser itself opens the conversation at its end.
        to={`/chat/${chat.id}#latest`}
        title={chat.title}
        className={({ isActive }) =>
          `block truncate rounded px-3 py-1.5 text-sm hover:bg-zinc-200/70 dark:hover:bg-zinc-800 ${isActive ? "bg-zinc-200 font-medium dark:bg-zinc-800" : ""}`
        }
      >
        {chat.title}
      </NavLink>
    </li>
  );
}

function Group({ name, chats, testId }: { name: string; chats: SidebarChat[]; testId?: string }) {
  return (
    <section aria-label={name} data-testid={testId}>
      <h2 className="px-3 pt-3 pb-1 text-xs font-medium text-zinc-600 dark:text-zinc-400">{name}</h2>
      <ul className="flex flex-col gap-0.5">
        {chats.map((chat) => (
          <ChatLink key={chat.id} chat={chat} />
        ))}
      </ul>
    </section>
  );
}

/**
 * The chat list: new chat, search, pinned chats, then the rest by last activity in date groups.
 * Older chats come a page at a time through a plain link (works without JavaScript).
 */
export function ChatSidebar({
  pinned,
  groups,
  nextCursor,
  paged,
}: {
  pinned: SidebarChat[];
  groups: SidebarGroup[];
  nextCursor: string | null;
  paged: boolean;
}) {
  return (
    <>
      <div className="flex flex-col gap-2 p-3">
        <Link
          to="/chat"
          className="block rounded bg-indigo-600 px-3 py-2 text-center font-medium text-white hover:bg-indigo-500"
          aria-keyshortcuts="Control+Shift+O"
          title="New chat (Ctrl+Shift+O)"
        >
          New chat
        </Link>
        <form method="get" action="/search">
          <input
            type="search"
            name="q"
            placeholder="Search chats"
            aria-label="Search chats"
            className="w-full rounded border border-zinc-300 bg-white px-3 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900"
          />
        </form>
      </div>
      <nav aria-label="Chats" className="min-h-0 flex-1 overflow-y-auto px-2 pb-3" data-testid="chat-list">
        {pinned.length === 0 && groups.length === 0 ? (
          <p className="px-3 pt-3 text-sm text-zinc-600 dark:text-zinc-400">No chats yet.</p>
        ) : null}
        {pinned.length > 0 ? <Group name="Pinned" chats={pinned} testId="pinned-chats" /> : null}
        {groups.map((group) => (
          <Group key={group.name} name={group.name} chats={group.chats} />
        ))}
        <div className="flex gap-3 px-3 pt-3 text-sm">
          {paged ? (
            <Link to="?" className="text-indigo-700 underline dark:text-indigo-300">
              Newest
            </Link>
          ) : null}
          {nextCursor ? (
            <Link to={`?older=${nextCursor}`} className="text-indigo-700 underline dark:text-indigo-300">
              Older chats
            </Link>
          ) : null}
        </div>
      </nav>
    </>
  );
}
