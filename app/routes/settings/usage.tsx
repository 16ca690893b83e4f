import { Link } from "react-router";
import { SettingsNav } from "~/components/settings-nav";
import { usageSummary } from "~/server/api/usage.server";
import { requireUser } from "~/server/auth.server";
import type { Route } from "./+types/usage";

export const meta: Route.MetaFunction = () => [{ title: "API usage · CustomChatAI" }];

const DAYS = 30;

export async function loader({ request }: Route.LoaderArgs) {
  const user = await requireUser(request);
  return { rows: await usageSummary(user.id, DAYS) };
}

const number = (value: number) => value.toLocaleString("en");

export default function Usage({ loaderData }: Route.ComponentProps) {
  const { rows } = loaderData;
  return (
    <div className="flex max-w-4xl flex-col gap-4">
      <SettingsNav />
      <h1 className="text-2xl font-semibold">API usage</h1>
      <p className="text-sm text-zinc-600 dark:text-zinc-400">
        Your API calls in the last {DAYS} days (UTC), per key and model. New calls appear within a few
        seconds. Manage keys under{" "}
        <Link to="/settings/keys" className="text-indigo-600 underline dark:text-indigo-400">
          API keys
        </Link>
        .
      </p>
      {rows.length === 0 ? (
        <p className="text-sm" data-testid="usage-empty">
          No API calls yet.
        </p>
      ) : (
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm" data-testid="usage-table">
            <thead className="text-zinc-500 dark:text-zinc-400">
              <tr>
                <th className="py-1 pr-3">Key</th>
                <th className="py-1 pr-3">Model</th>
                <th className="py-1 pr-3 text-right">Requests</th>
                <th className="py-1 pr-3 text-right">Errors</th>
                <th className="py-1 pr-3 text-right">Prompt tokens</th>
                <th className="py-1 pr-3 text-right">Completion tokens</th>
                <th className="py-1 text-right">Avg latency</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr
                  key={`${row.keyId} ${row.model}`}
                  className="border-t border-zinc-200 dark:border-zinc-800"
                >
                  <td className="py-1 pr-3">
                    {row.keyName}
                    {row.keyPrefix ? (
                      <span className="ml-1 font-mono text-zinc-500 dark:text-zinc-400">
                        {row.keyPrefix}…
                      </span>
                    ) : null}
                  </td>
                  <td className="py-1 pr-3">{row.model || "—"}</td>
                  <td className="py-1 pr-3 text-right" data-testid="usage-requests">
                    {number(row.requests)}
                  </td>
                  <td className="py-1 pr-3 text-right">{number(row.errors)}</td>
                  <td className="py-1 pr-3 text-right">{number(row.promptTokens)}</td>
                  <td className="py-1 pr-3 text-right">{number(row.completionTokens)}</td>
                  <td className="py-1 text-right">{number(row.averageLatencyMs)} ms</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
