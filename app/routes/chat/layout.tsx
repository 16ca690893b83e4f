import { Link, NavLink, Outlet } from "react-router";
import { requireUser } from "~/server/auth.server";
import { listChats } from "~/server/chat/chats.server";
import type { Route } from "./+types/layout";

/** Cursor for the next page of the chat list: the last chat's activity time and id. */
function parseCursor(value: string | null) {
  const match = value?.match(/^(\d{1,15})_([a-z0-9]{1,40})$/);
  return match ? { updatedAt: new Date(Number(match[1])), id: match[2] } : undefined;
}

export async function loader({ request }: Route.LoaderArgs) {
  const user = await requireUser(request);
  const before = parseCursor(new URL(request.url).searchParams.get("older"));
  const { chats, hasMore } = await listChats(user.id, before);
  const last = chats.at(-1);
  return {
    chats,
    nextCursor: hasMore && last ? `${last.updatedAt.getTime()}_${last.id}` : null,
    paged: Boolean(before),
  };
}

export default function ChatLayout({ loaderData }: Route.ComponentProps) {
  const { chats, nextCursor, paged } = loaderData;
  return (
    <div className="flex flex-col gap-6 md:flex-row">
      <nav aria-label="Chats" className="md:w-64 md:shrink-0">
        <Link
          to="/chat"
          className="mb-3 block rounded bg-indigo-600 px-3 py-2 text-center font-medium text-white hover:bg-indigo-500"
        >
          New chat
        </Link>
        <form method="get" action="/search" className="mb-3">
          <input
            type="search"
            name="q"
            placeholder="Search chats"
            aria-label="Search chats"
            className="w-full rounded border border-zinc-300 bg-white px-3 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900"
          />
        </form>
        {chats.length === 0 ? (
          <p className="text-sm text-zinc-500">No chats yet.</p>
        ) : (
          <ul className="flex max-h-[70vh] flex-col gap-0.5 overflow-y-auto" data-testid="chat-list">
            {chats.map((chat) => (
              <li key={chat.id}>
                <NavLink
                  to={`/chat/${chat.id}`}
                  className={({ isActive }) =>
                    `block truncate rounded px-3 py-1.5 text-sm hover:bg-zinc-100 dark:hover:bg-zinc-800 ${isActive ? "bg-zinc-100 font-medium dark:bg-zinc-800" : ""}`
                  }
                >
                  {chat.title}
                </NavLink>
              </li>
            ))}
          </ul>
        )}
        <div className="mt-2 flex gap-3 text-sm">
          {paged ? (
            <Link to="?" className="text-indigo-600 underline dark:text-indigo-400">
              Newest
            </Link>
          ) : null}
          {nextCursor ? (
            <Link to={`?older=${nextCursor}`} className="text-indigo-600 underline dark:text-indigo-400">
              Older chats
            </Link>
          ) : null}
        </div>
      </nav>
      <div className="min-w-0 flex-1">
        <Outlet />
      </div>
    </div>
  );
}
