import { Link } from "react-router";
import { requireAdminPage } from "~/server/admin/guard.server";
import { adminOverview } from "~/server/admin/overview.server";
import type { Route } from "./+types/overview";

export const meta: Route.MetaFunction = () => [{ title: "Admin · CustomChatAI" }];

export async function loader({ request }: Route.LoaderArgs) {
  await requireAdminPage(request);
  return adminOverview();
}

const card = "rounded border border-zinc-200 p-4 dark:border-zinc-800";

function Stat({
  label,
  value,
  hint,
  testId,
}: {
  label: string;
  value: string;
  hint?: string;
  testId: string;
}) {
  return (
    <div className={card}>
      <div className="text-sm text-zinc-500 dark:text-zinc-400">{label}</div>
      <div className="text-2xl font-semibold tabular-nums" data-testid={testId}>
        {value}
      </div>
      {hint ? <div className="text-xs text-zinc-500 dark:text-zinc-400">{hint}</div> : null}
    </div>
  );
}

const number = (value: number) => value.toLocaleString("en");

function bytes(size: number) {
  if (size >= 1e9) return `${(size / 1e9).toFixed(1)} GB`;
  if (size >= 1e6) return `${(size / 1e6).toFixed(0)} MB`;
  return `${number(size)} B`;
}

const statusStyles: Record<string, string> = {
  ok: "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-200",
  disabled: "bg-zinc-100 text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300",
  error: "bg-red-100 text-red-800 dark:bg-red-950 dark:text-red-200",
};

export default function AdminOverview({ loaderData }: Route.ComponentProps) {
  const { counts, today, health, loadedModels, runningPulls, appVersion, uptimeSeconds } = loaderData;
  const services = [
    { name: "Database", check: health.checks.database, detail: null },
    {
      name: "Redis",
      check: health.checks.redis,
      detail: health.checks.redis.status === "disabled" ? "not configured: in-process fallbacks" : null,
    },
    {
      name: "Ollama",
      check: health.checks.ollama,
      detail: health.checks.ollama.version ? `version ${health.checks.ollama.version}` : null,
    },
  ];
  return (
    <div className="flex flex-col gap-8">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h1 className="text-2xl font-semibold">Overview</h1>
        <p className="text-sm text-zinc-500 dark:text-zinc-400">
          CustomChatAI <span data-testid="app-version">{appVersion}</span> · this replica up{" "}
          {Math.floor(uptimeSeconds / 3600)} h {Math.floor((uptimeSeconds % 3600) / 60)} min
        </p>
      </div>

      <section className="flex flex-col gap-3" aria-labelledby="counts-heading">
        <h2 id="counts-heading" className="text-lg font-semibold">
          Totals
        </h2>
        <div className="grid grid-cols-2 gap-3 md:grid-cols-4">
          <Stat
            label="Users"
            value={number(counts.users)}
            hint={`${counts.admins} enabled admin${counts.admins === 1 ? "" : "s"} · ${counts.disabledUsers} disabled`}
            testId="count-users"
          />
          <Stat label="Chats" value={number(counts.chats)} testId="count-chats" />
          <Stat
            label="Messages"
            value={`${counts.messages.approximate ? "≈ " : ""}${number(counts.messages.value)}`}
            hint={counts.messages.approximate ? "estimate from PostgreSQL statistics" : undefined}
            testId="count-messages"
          />
          <Stat label="API keys" value={number(counts.apiKeys)} hint="not revoked" testId="count-keys" />
        </div>
      </section>

      <section className="flex flex-col gap-3" aria-labelledby="today-heading">
        <h2 id="today-heading" className="text-lg font-semibold">
          API today <span className="text-sm font-normal text-zinc-500 dark:text-zinc-400">(UTC)</span>
        </h2>
        <div className="grid grid-cols-2 gap-3 md:grid-cols-3">
          <Stat label="Requests" value={number(today.requests)} testId="today-requests" />
          <Stat label="Tokens" value={number(today.tokens)} testId="today-tokens" />
          <Stat
            label="Error rate"
            value={today.errorRate === null ? "—" : `${(today.errorRate * 100).toFixed(1)} %`}
            hint={`${number(today.errors)} failed`}
            testId="today-error-rate"
          />
        </div>
        <p className="text-sm">
          <Link to="/admin/usage" className="text-indigo-600 underline dark:text-indigo-400">
            Usage in detail
          </Link>
        </p>
      </section>

      <section className="flex flex-col gap-3" aria-labelledby="health-heading">
        <h2 id="health-heading" className="text-lg font-semibold">
          Health{" "}
          <span className="text-sm font-normal text-zinc-500 dark:text-zinc-400">({health.status})</span>
        </h2>
        <ul className="grid gap-3 md:grid-cols-3" data-testid="health">
          {services.map(({ name, check, detail }) => (
            <li key={name} className={card} data-testid={`health-${name.toLowerCase()}`}>
              <div className="flex items-center justify-between gap-2">
                <span className="font-medium">{name}</span>
                <span className={`rounded px-1.5 py-0.5 text-xs ${statusStyles[check.status] ?? ""}`}>
                  {check.status}
                </span>
              </div>
              <div className="mt-1 text-xs text-zinc-500 dark:text-zinc-400">
                {check.status === "disabled" ? null : `${check.latencyMs} ms`}
                {detail ? <span> · {detail}</span> : null}
              </div>
              {check.error ? (
                <p className="mt-1 text-xs break-words text-red-700 dark:text-red-300">{check.error}</p>
              ) : null}
            </li>
          ))}
        </ul>
      </section>

      <section className="flex flex-col gap-3" aria-labelledby="pulls-heading">
        <h2 id="pulls-heading" className="text-lg font-semibold">
          Running pulls
        </h2>
        {runningPulls.length === 0 ? (
          <p className="text-sm text-zinc-600 dark:text-zinc-400" data-testid="running-pulls">
            None. Download models under{" "}
            <Link to="/admin/models" className="text-indigo-600 underline dark:text-indigo-400">
              Models
            </Link>
            .
          </p>
        ) : (
          <ul className="flex flex-col gap-1 text-sm" data-testid="running-pulls">
            {runningPulls.map((pull) => (
              <li key={pull.name}>
                <Link to="/admin/models" className="font-mono text-indigo-600 underline dark:text-indigo-400">
                  {pull.name}
                </Link>{" "}
                — {Math.floor(pull.percent)} %, {pull.line}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section className="flex flex-col gap-3" aria-labelledby="loaded-heading">
        <h2 id="loaded-heading" className="text-lg font-semibold">
          Models loaded now
        </h2>
        {loadedModels === null ? (
          <p className="text-sm text-zinc-600 dark:text-zinc-400">Ollama did not answer.</p>
        ) : loadedModels.length === 0 ? (
          <p className="text-sm text-zinc-600 dark:text-zinc-400" data-testid="loaded-models">
            None: Ollama loads a model on its first request.
          </p>
        ) : (
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm" data-testid="loaded-models">
              <thead className="text-zinc-500 dark:text-zinc-400">
                <tr>
                  <th className="py-1 pr-3">Model</th>
                  <th className="py-1 pr-3 text-right">Size</th>
                  <th className="py-1 pr-3 text-right">In VRAM</th>
                  <th className="py-1 pr-3">Unloads at</th>
                </tr>
              </thead>
              <tbody>
                {loadedModels.map((model) => (
                  <tr key={model.name} className="border-t border-zinc-200 dark:border-zinc-800">
                    <td className="py-1 pr-3 font-mono">{model.name}</td>
                    <td className="py-1 pr-3 text-right">{bytes(model.size)}</td>
                    <td className="py-1 pr-3 text-right">{bytes(model.sizeVram)}</td>
                    <td className="py-1 pr-3 whitespace-nowrap">
                      {model.expiresAt ? `${model.expiresAt.slice(0, 16).replace("T", " ")}` : "—"}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}
