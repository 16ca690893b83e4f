import { useFetcher } from "react-router";
import type { FieldErrors } from "~/lib/account-schemas";

/** What the user actions answer (app/server/admin/user-actions.server.ts), as the pages see it. */
export interface UserActionData {
  intent: string;
  userId: string | null;
  notice: string | null;
  errors: FieldErrors | null;
  created: { email: string; password: string } | null;
}

export function when(date: Date | string | null) {
  if (!date) return null;
  return `${new Date(date).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export const linkClass = "text-indigo-600 underline dark:text-indigo-400";
export const smallButton =
  "rounded border border-zinc-300 px-2 py-1 text-xs font-medium whitespace-nowrap hover:bg-zinc-100 disabled:opacity-60 dark:border-zinc-700 dark:hover:bg-zinc-800";
export const dangerButton =
  "rounded border border-red-300 px-2 py-1 text-xs font-medium whitespace-nowrap text-red-700 hover:bg-red-50 disabled:opacity-60 dark:border-red-900 dark:text-red-300 dark:hover:bg-red-950";

interface Target {
  id: string;
  email: string;
  role: "ADMIN" | "USER";
  disabled: boolean;
}

/**
 * Promote/demote and disable/enable for one user. A plain form without JavaScript (the page answers
 * with a notice); with JavaScript a fetcher, so the row updates in place when the page's data is
 * revalidated. `self` hides what an admin may not do to themselves.
 */
export function UserActionButtons({ user, self }: { user: Target; self: boolean }) {
  const fetcher = useFetcher<UserActionData>();
  const busy = fetcher.state !== "idle";
  const error = fetcher.data?.errors?.form?.join(" ");
  if (self) return <span className="text-xs text-zinc-500 dark:text-zinc-400">you</span>;
  return (
    <div className="flex flex-col gap-1">
      <div className="flex gap-2">
        <fetcher.Form method="post">
          <input type="hidden" name="intent" value="role" />
          <input type="hidden" name="userId" value={user.id} />
          <input type="hidden" name="role" value={user.role === "ADMIN" ? "USER" : "ADMIN"} />
          <button
            type="submit"
            className={smallButton}
            disabled={busy}
            aria-label={`${user.role === "ADMIN" ? "Demote" : "Promote"} ${user.email}`}
          >
            {user.role === "ADMIN" ? "Demote" : "Promote"}
          </button>
        </fetcher.Form>
        <fetcher.Form method="post">
          <input type="hidden" name="intent" value="disable" />
          <input type="hidden" name="userId" value={user.id} />
          <input type="hidden" name="disabled" value={user.disabled ? "false" : "true"} />
          <button
            type="submit"
            className={user.disabled ? smallButton : dangerButton}
            disabled={busy}
            aria-label={`${user.disabled ? "Enable" : "Disable"} ${user.email}`}
          >
            {user.disabled ? "Enable" : "Disable"}
          </button>
        </fetcher.Form>
      </div>
      {error ? (
        <p role="alert" className="max-w-56 text-xs text-red-600 dark:text-red-400" data-testid="row-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

export function Notice({ children }: { children: React.ReactNode }) {
  return (
    <p
      role="status"
      className="rounded border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900 dark:border-emerald-900 dark:bg-emerald-950 dark:text-emerald-100"
      data-testid="notice"
    >
      {children}
    </p>
  );
}

export function StatusBadge({ disabled, role }: { disabled: boolean; role: "ADMIN" | "USER" }) {
  return (
    <span className="flex flex-wrap gap-1">
      <span
        className={`rounded px-1.5 py-0.5 text-xs ${
          role === "ADMIN"
            ? "bg-indigo-100 text-indigo-800 dark:bg-indigo-900 dark:text-indigo-100"
            : "bg-zinc-100 text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300"
        }`}
        data-testid="user-role"
      >
        {role === "ADMIN" ? "admin" : "user"}
      </span>
      <span
        className={`rounded px-1.5 py-0.5 text-xs ${
          disabled
            ? "bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-200"
            : "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-200"
        }`}
        data-testid="user-status"
      >
        {disabled ? "disabled" : "active"}
      </span>
    </span>
  );
}
