import { data, Form, Link, useNavigation } from "react-router";
import { FormError } from "~/components/form";
import { fieldErrorsOf } from "~/lib/account-schemas";
import { AUDIT_ACTIONS, type AuditAction, auditQuerySchema, isAuditAction } from "~/lib/audit-actions";
import { listAuditEvents } from "~/server/admin/audit.server";
import { requireAdminAction, requireAdminPage } from "~/server/admin/guard.server";
import type { Route } from "./+types/audit";

export const meta: Route.MetaFunction = () => [{ title: "Audit log · Admin · CustomChatAI" }];

/**
 * Read-only on purpose: every POST/PUT/PATCH/DELETE is refused (403 for a non-admin, recorded by
 * the guard; 405 for an admin), and the table's trigger refuses changes from anywhere in the app.
 */
export async function action({ request }: Route.ActionArgs) {
  await requireAdminAction(request);
  throw data("The audit log cannot be changed.", { status: 405, headers: { Allow: "GET, HEAD" } });
}

function day(text: string | undefined) {
  return text ? new Date(`${text}T00:00:00Z`) : undefined;
}

function json(value: unknown) {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

export async function loader({ request }: Route.LoaderArgs) {
  await requireAdminPage(request);
  const params = Object.fromEntries(new URL(request.url).searchParams);
  const parsed = auditQuerySchema.safeParse(params);
  const shown = {
    actor: params.actor ?? "",
    action: params.action ?? "",
    from: params.from ?? "",
    to: params.to ?? "",
  };
  if (!parsed.success) {
    return data(
      { filter: shown, errors: fieldErrorsOf(parsed.error), events: [], hasNewer: false, hasOlder: false },
      { status: 400 },
    );
  }
  const query = parsed.data;
  const page = await listAuditEvents(
    {
      actor: query.actor || undefined,
      action: isAuditAction(query.action) ? query.action : undefined,
      from: day(query.from),
      to: day(query.to),
    },
    {
      before: query.before ? BigInt(query.before) : undefined,
      after: query.after ? BigInt(query.after) : undefined,
    },
  );
  return {
    filter: shown,
    errors: null,
    hasNewer: page.hasNewer,
    hasOlder: page.hasOlder,
    events: page.events.map((event) => ({
      id: String(event.id),
      at: `${event.at.toISOString().slice(0, 19).replace("T", " ")} UTC`,
      actor: event.actorEmail ?? event.actorId ?? "system",
      action: event.action,
      label: isAuditAction(event.action) ? AUDIT_ACTIONS[event.action as AuditAction] : event.action,
      target: event.targetType ? `${event.targetType}${event.targetId ? ` ${event.targetId}` : ""}` : "",
      before: json(event.before),
      after: json(event.after),
      ip: event.ip ?? "",
    })),
  };
}

const inputClass =
  "rounded border border-zinc-300 bg-white px-2 py-1.5 text-sm text-zinc-900 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100";

export default function AuditLog({ loaderData }: Route.ComponentProps) {
  const { filter, errors, events, hasNewer, hasOlder } = loaderData;
  const navigation = useNavigation();
  const loading = navigation.state === "loading" && navigation.location.pathname === "/admin/audit";
  const pageLink = (cursor: Record<string, string>) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(filter)) if (value) params.set(key, value);
    for (const [key, value] of Object.entries(cursor)) params.set(key, value);
    return `/admin/audit?${params}`;
  };
  const linkClass = "rounded border border-zinc-300 px-3 py-1.5 text-sm dark:border-zinc-700";

  return (
    <div className="flex flex-col gap-6">
      <div>
        <h1 className="text-2xl font-semibold">Audit log</h1>
        <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
          Admin and security events, newest first. The log is append-only: nothing here, nor anywhere in the
          app, can change or remove an entry.
        </p>
      </div>

      {/* Keyed by the filter, so the fields show the filter in force after a link changed it. */}
      <Form
        key={JSON.stringify(filter)}
        method="get"
        className="flex flex-wrap items-end gap-3"
        data-testid="audit-filter"
      >
        <label className="flex min-w-0 flex-col gap-1 text-sm">
          <span className="font-medium">Actor email</span>
          <input
            type="text"
            name="actor"
            defaultValue={filter.actor}
            inputMode="email"
            autoComplete="off"
            aria-invalid={errors?.actor ? true : undefined}
            className={`${inputClass} w-64 max-w-full`}
          />
        </label>
        <label className="flex flex-col gap-1 text-sm">
          <span className="font-medium">Action</span>
          <select name="action" defaultValue={filter.action} className={inputClass}>
            <option value="">Any action</option>
            {Object.entries(AUDIT_ACTIONS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label className="flex flex-col gap-1 text-sm">
          <span className="font-medium">From</span>
          <input type="date" name="from" defaultValue={filter.from} className={inputClass} />
        </label>
        <label className="flex flex-col gap-1 text-sm">
          <span className="font-medium">To</span>
          <input type="date" name="to" defaultValue={filter.to} className={inputClass} />
        </label>
        <button
          type="submit"
          className="rounded bg-indigo-600 px-4 py-1.5 text-sm font-medium text-white hover:bg-indigo-500"
        >
          Filter
        </button>
        {Object.values(filter).some(Boolean) ? (
          <Link to="/admin/audit" className="py-1.5 text-sm text-indigo-600 underline dark:text-indigo-400">
            Clear
          </Link>
        ) : null}
      </Form>

      {errors ? <FormError errors={Object.values(errors).flatMap((messages) => messages ?? [])} /> : null}

      {!errors && events.length === 0 ? (
        <p className="text-sm" data-testid="audit-empty">
          No events match.
        </p>
      ) : null}

      {events.length > 0 ? (
        <div className={`overflow-x-auto ${loading ? "opacity-60" : ""}`}>
          <table className="w-full min-w-[56rem] text-left text-sm" data-testid="audit-table">
            <thead className="text-zinc-500 dark:text-zinc-400">
              <tr>
                <th className="py-1 pr-3 font-medium">Time</th>
                <th className="py-1 pr-3 font-medium">Actor</th>
                <th className="py-1 pr-3 font-medium">Action</th>
                <th className="py-1 pr-3 font-medium">Target</th>
                <th className="py-1 pr-3 font-medium">Change</th>
                <th className="py-1 font-medium">IP</th>
              </tr>
            </thead>
            <tbody>
              {events.map((event) => (
                <tr
                  key={event.id}
                  className="border-t border-zinc-200 align-top dark:border-zinc-800"
                  data-testid="audit-row"
                  data-action={event.action}
                >
                  <td className="whitespace-nowrap py-1.5 pr-3 tabular-nums">{event.at}</td>
                  <td className="py-1.5 pr-3 break-all" data-testid="audit-actor">
                    {event.actor}
                  </td>
                  <td className="whitespace-nowrap py-1.5 pr-3" data-testid="audit-action">
                    {event.label}
                  </td>
                  <td className="py-1.5 pr-3 font-mono text-xs break-all" data-testid="audit-target">
                    {event.target}
                  </td>
                  <td className="py-1.5 pr-3 font-mono text-xs break-all">
                    {event.before ? (
                      <div>
                        <span className="text-zinc-500 dark:text-zinc-400">before </span>
                        {event.before}
                      </div>
                    ) : null}
                    {event.after ? (
                      <div>
                        <span className="text-zinc-500 dark:text-zinc-400">after </span>
                        {event.after}
                      </div>
                    ) : null}
                  </td>
                  <td className="whitespace-nowrap py-1.5 font-mono text-xs" data-testid="audit-ip">
                    {event.ip}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}

      {hasNewer || hasOlder ? (
        <nav aria-label="Pages" className="flex gap-3">
          {hasNewer && events.length > 0 ? (
            <Link to={pageLink({ after: events[0].id })} className={linkClass} data-testid="audit-newer">
              ← Newer
            </Link>
          ) : null}
          {hasOlder && events.length > 0 ? (
            <Link
              to={pageLink({ before: events[events.length - 1].id })}
              className={linkClass}
              data-testid="audit-older"
            >
              Older →
            </Link>
          ) : null}
        </nav>
      ) : null}
    </div>
  );
}
