import { useEffect } from "react";
import { Outlet, useNavigate, useRevalidator } from "react-router";
import { BELOW_HEADER_HEIGHT_CLASS } from "~/components/app-header";
import { ChatSidebar } from "~/components/chat/sidebar";
import { useCloseOnNavigation } from "~/components/disclosure";
import { ErrorPage } from "~/components/error-page";
import { groupChats, TIME_ZONE_COOKIE, validTimeZone } from "~/lib/chat-groups";
import { requireUser } from "~/server/auth.server";
import { listChats, listPinnedChats } from "~/server/chat/chats.server";
import type { Route } from "./+types/layout";

/** The chat fills the screen under the header (root.tsx reads this). */
export const handle = { fullScreen: true };

/** Cursor for the next page of the chat list: the last chat's activity time and id. */
function parseCursor(value: string | null) {
  const match = value?.match(/^(\d{1,15})_([a-z0-9]{1,40})$/);
  return match ? { updatedAt: new Date(Number(match[1])), id: match[2] } : undefined;
}

function cookieValue(request: Request, name: string) {
  const pair = request.headers
    .get("Cookie")
    ?.split(/;\s*/)
    .find((part) => part.startsWith(`${name}=`));
  if (!pair) return undefined;
  try {
    return decodeURIComponent(pair.slice(name.length + 1));
  } catch {
    // Not ours to fail on: a malformed cookie (another app on this host may set one) is ignored.
    return undefined;
  }
}

export async function loader({ request }: Route.LoaderArgs) {
  const user = await requireUser(request);
  const before = parseCursor(new URL(request.url).searchParams.get("older"));
  const [pinned, { chats, hasMore }] = await Promise.all([
    before ? Promise.resolve([]) : listPinnedChats(user.id),
    listChats(user.id, before),
  ]);
  const timeZone = validTimeZone(cookieValue(request, TIME_ZONE_COOKIE)) ?? "UTC";
  const last = chats.at(-1);
  const summary = ({ id, title }: { id: string; title: string }) => ({ id, title });
  return {
    pinned: pinned.map(summary),
    groups: groupChats(chats, new Date(), timeZone).map((group) => ({
      name: group.name,
      chats: group.chats.map(summary),
    })),
    timeZone,
    nextCursor: hasMore && last ? `${last.updatedAt.getTime()}_${last.id}` : null,
    paged: Boolean(before),
  };
}

/**
 * The browser tells the server its time zone once, so the list's "Today" and "Yesterday" are the
 * reader's days; until then (and without JavaScript) they are UTC days.
 */
function useTimeZoneCookie(serverTimeZone: string) {
  const { revalidate } = useRevalidator();
  useEffect(() => {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!zone || zone === serverTimeZone) return;
    // biome-ignore lint/suspicious/noDocumentCookie: a plain preference cookie, read by the loader
    document.cookie = `${TIME_ZONE_COOKIE}=${encodeURIComponent(zone)}; Path=/; Max-Age=31536000; SameSite=Lax`;
    void revalidate();
  }, [serverTimeZone, revalidate]);
}

/**
 * Keys that people coming from ChatGPT reach for: Ctrl+Shift+O starts a new chat, Escape stops the
 * reply being written (when no menu is open: menus take Escape first).
 */
function useChatShortcuts() {
  const navigate = useNavigate();
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key.toLowerCase() === "o" && event.shiftKey && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        navigate("/chat");
        return;
      }
      if (event.key === "Escape" && !event.defaultPrevented) {
        const stop = document.querySelector<HTMLInputElement>('form input[name="intent"][value="stop"]');
        if (stop?.form) {
          event.preventDefault();
          stop.form.requestSubmit();
        }
      }
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [navigate]);
}

/**
 * On wide screens the list is a column beside the conversation. On phones it is a drawer behind the
 * "Chats" button: a <details> placed before the list, whose open state shows it (CSS `peer-open`), so
 * it works without JavaScript; tapping the dimmed page (the summary's backdrop) closes it.
 */
function ChatShell({ sidebar, children }: { sidebar: React.ReactNode; children: React.ReactNode }) {
  const drawer = useCloseOnNavigation<HTMLDetailsElement>();
  return (
    <div className={`relative flex ${BELOW_HEADER_HEIGHT_CLASS} overflow-clip`}>
      <details ref={drawer} className="peer absolute top-2 left-2 md:hidden" data-testid="chat-drawer">
        <summary
          className="flex h-8 cursor-pointer list-none items-center rounded border border-zinc-300 bg-white px-2.5 text-sm dark:border-zinc-700 dark:bg-zinc-900 [&::-webkit-details-marker]:hidden [[open]>&]:after:fixed [[open]>&]:after:inset-0 [[open]>&]:after:z-30 [[open]>&]:after:bg-black/40 [[open]>&]:after:content-['']"
          aria-label="Chat list"
          aria-controls="chat-sidebar"
        >
          <span aria-hidden="true">☰</span>
        </summary>
      </details>
      <aside
        id="chat-sidebar"
        className="fixed inset-y-0 left-0 z-40 hidden w-[85vw] max-w-xs flex-col border-r border-zinc-200 bg-zinc-50 peer-open:flex md:static md:z-auto md:flex md:w-72 md:max-w-none dark:border-zinc-800 dark:bg-zinc-900"
      >
        {sidebar}
      </aside>
      <main className="flex min-w-0 flex-1 flex-col">{children}</main>
    </div>
  );
}

export default function ChatLayout({ loaderData }: Route.ComponentProps) {
  useTimeZoneCookie(loaderData.timeZone);
  useChatShortcuts();
  return (
    <ChatShell sidebar={<ChatSidebar {...loaderData} />}>
      <Outlet />
    </ChatShell>
  );
}

/** A missing chat (or a failure) keeps the chat list, so the way on is where it always is. */
export function ErrorBoundary({ error, loaderData }: Route.ErrorBoundaryProps) {
  if (!loaderData) return <ErrorPage error={error} />;
  return (
    <ChatShell sidebar={<ChatSidebar {...loaderData} />}>
      <div className="overflow-y-auto">
        <ErrorPage error={error} />
      </div>
    </ChatShell>
  );
}
