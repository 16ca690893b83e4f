import { data, Form, Link, useNavigation } from "react-router";
import {
  compact,
  duration,
  LineDayChart,
  NumbersTable,
  number,
  palette,
  percent,
  StackedDayChart,
  TopChart,
} from "~/components/admin/usage-charts";
import { FormError } from "~/components/form";
import { fieldErrorsOf } from "~/lib/account-schemas";
import {
  formatDay,
  resolveRange,
  TOP_USERS,
  USAGE_PRESETS,
  USAGE_SOURCES,
  type UsageQuery,
  usageQuerySchema,
  usageSearch,
} from "~/lib/admin-usage";
import { requireAdminPage } from "~/server/admin/guard.server";
import { usageOverview } from "~/server/admin/usage.server";
import type { Route } from "./+types/usage";

export const meta: Route.MetaFunction = () => [{ title: "Usage · Admin · CustomChatAI" }];

function today() {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

export async function loader({ request }: Route.LoaderArgs) {
  await requireAdminPage(request);
  const params = Object.fromEntries(new URL(request.url).searchParams);
  const parsed = usageQuerySchema.safeParse(params);
  if (!parsed.success) {
    // The form is shown again with its errors; nothing is charted for a range that does not exist.
    const fallback: UsageQuery = { preset: "custom", from: params.from, to: params.to, source: "all" };
    return data(
      { query: fallback, errors: fieldErrorsOf(parsed.error), range: null, report: null },
      { status: 400 },
    );
  }
  const query = parsed.data;
  const { from, to } = resolveRange(query, today());
  const report = await usageOverview({ from, to, source: query.source });
  return {
    query,
    errors: null,
    range: { from: formatDay(from), to: formatDay(to) },
    report,
  };
}

const selectClass =
  "rounded border border-zinc-300 bg-white px-2 py-1.5 text-sm text-zinc-900 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100";

function Stat({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div className="rounded border border-zinc-200 px-3 py-2 dark:border-zinc-800">
      <div className="text-xs text-zinc-500 dark:text-zinc-400">{label}</div>
      <div className="text-lg font-semibold tabular-nums" data-testid={testId}>
        {value}
      </div>
    </div>
  );
}

export default function AdminUsage({ loaderData }: Route.ComponentProps) {
  const { query, errors, range, report } = loaderData;
  const navigation = useNavigation();
  const loading = navigation.state === "loading" && navigation.location.pathname === "/admin/usage";
  const search = usageSearch(query);
  const customFrom = query.preset === "custom" ? query.from : range?.from;
  const customTo = query.preset === "custom" ? query.to : range?.to;

  return (
    <div className="flex flex-col gap-6">
      <div>
        <h1 className="text-2xl font-semibold">Usage</h1>
        <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
          Chat replies and API calls per day (UTC), from the exact counts recorded when each one finished. New
          activity appears within a few seconds.
        </p>
      </div>

      <Form key={search} method="get" className="flex flex-wrap items-end gap-3" data-testid="usage-filter">
        <label className="flex flex-col gap-1 text-sm">
          <span className="font-medium">Range</span>
          <select name="preset" defaultValue={query.preset} className={selectClass}>
            {Object.entries(USAGE_PRESETS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label className="flex flex-col gap-1 text-sm">
          <span className="font-medium">From</span>
          <input
            type="date"
            name="from"
            defaultValue={customFrom}
            aria-invalid={errors?.from ? true : undefined}
            className={selectClass}
          />
        </label>
        <label className="flex flex-col gap-1 text-sm">
          <span className="font-medium">To</span>
          <input
            type="date"
            name="to"
            defaultValue={customTo}
            aria-invalid={errors?.to ? true : undefined}
            className={selectClass}
          />
        </label>
        <label className="flex flex-col gap-1 text-sm">
          <span className="font-medium">Source</span>
          <select name="source" defaultValue={query.source} className={selectClass}>
            {Object.entries(USAGE_SOURCES).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <button
          type="submit"
          className="rounded bg-indigo-600 px-4 py-1.5 text-sm font-medium text-white hover:bg-indigo-500"
        >
          Show
        </button>
        <p className="w-full text-xs text-zinc-500 dark:text-zinc-400">
          From and To apply when the range is Custom.
        </p>
      </Form>

      {errors ? <FormError errors={Object.values(errors).flatMap((messages) => messages ?? [])} /> : null}

      {report && range ? (
        <div className={`flex flex-col gap-6 ${loading ? "opacity-60" : ""}`} data-testid="usage-report">
          <div className="flex flex-wrap items-center justify-between gap-2 text-sm">
            <p data-testid="usage-range">{`${range.from} to ${range.to} · ${USAGE_SOURCES[query.source]}`}</p>
            <p className="flex flex-wrap gap-3">
              <span className="text-zinc-600 dark:text-zinc-400">CSV:</span>
              {(["daily", "models", "users"] as const).map((table) => (
                <a
                  key={table}
                  href={`/admin/usage.csv?${search}&table=${table}`}
                  className="text-indigo-600 underline dark:text-indigo-400"
                  download
                >
                  {table === "daily" ? "per day" : table === "models" ? "per model" : "per user"}
                </a>
              ))}
            </p>
          </div>

          <div className="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-6">
            <Stat label="Requests" value={number(report.totals.requests)} testId="total-requests" />
            <Stat label="Tokens in" value={number(report.totals.promptTokens)} testId="total-prompt-tokens" />
            <Stat
              label="Tokens out"
              value={number(report.totals.completionTokens)}
              testId="total-completion-tokens"
            />
            <Stat
              label="Error rate"
              value={percent(report.totals.requests ? report.totals.errors / report.totals.requests : null)}
              testId="total-error-rate"
            />
            <Stat label="Latency p50" value={duration(report.totals.p50Ms)} testId="total-p50" />
            <Stat label="Latency p95" value={duration(report.totals.p95Ms)} testId="total-p95" />
          </div>

          <div className="grid gap-4 lg:grid-cols-2">
            <StackedDayChart
              title="Requests per day"
              summary={`${number(report.totals.chatRequests)} chat · ${number(report.totals.apiRequests)} API`}
              testId="chart-requests"
              data={report.series}
              series={[
                { key: "chat", label: "Chat", ...palette.chat },
                { key: "api", label: "API", ...palette.api },
              ]}
              value={(row, key) => (key === "chat" ? row.chatRequests : row.apiRequests)}
            />
            <StackedDayChart
              title="Tokens per day"
              summary={`${compact(report.totals.promptTokens)} in · ${compact(report.totals.completionTokens)} out`}
              testId="chart-tokens"
              data={report.series}
              series={[
                { key: "in", label: "Tokens in", ...palette.in },
                { key: "out", label: "Tokens out", ...palette.out },
              ]}
              value={(row, key) => (key === "in" ? row.promptTokens : row.completionTokens)}
            />
            <LineDayChart
              title="Latency per day"
              summary={`p50 ${duration(report.totals.p50Ms)} · p95 ${duration(report.totals.p95Ms)}`}
              testId="chart-latency"
              data={report.series}
              series={[
                { key: "p50", label: "p50", ...palette.p50 },
                { key: "p95", label: "p95", ...palette.p95 },
              ]}
              value={(row, key) => (key === "p50" ? row.p50Ms : row.p95Ms)}
              format={duration}
            />
            <LineDayChart
              title="Error rate per day"
              summary={`${number(report.totals.errors)} errors`}
              testId="chart-errors"
              data={report.series}
              series={[{ key: "rate", label: "Error rate", ...palette.errors }]}
              value={(row) => row.errorRate}
              format={(rate) => percent(rate)}
            />
            <TopChart
              title="Top models by tokens"
              summary={`${report.byModel.length} models`}
              testId="chart-models"
              data={report.byModel
                .slice(0, TOP_USERS)
                .map((row) => ({ ...row, label: row.model || "(none)" }))}
              series={[
                { key: "in", label: "Tokens in", ...palette.in },
                { key: "out", label: "Tokens out", ...palette.out },
              ]}
              value={(row, key) => (key === "in" ? row.promptTokens : row.completionTokens)}
              empty="No usage in this range."
            />
            <TopChart
              title={`Top ${TOP_USERS} users by tokens`}
              summary={`${number(report.topUsers.reduce((sum, row) => sum + row.requests, 0))} requests`}
              testId="chart-users"
              data={report.topUsers.map((row) => ({ ...row, label: row.email ?? row.userId }))}
              series={[
                { key: "in", label: "Tokens in", ...palette.in },
                { key: "out", label: "Tokens out", ...palette.out },
              ]}
              value={(row, key) => (key === "in" ? row.promptTokens : row.completionTokens)}
              empty="No usage in this range."
            />
          </div>
          <details className="text-sm" data-testid="usage-days">
            <summary className="cursor-pointer text-zinc-600 dark:text-zinc-400">
              The numbers per day ({report.series.length} days)
            </summary>
            <div className="mt-2 max-h-96 overflow-auto">
              <NumbersTable
                testId="usage-days-table"
                head={["Date", "Chat", "API", "Tokens in", "Tokens out", "p50", "p95", "Error rate"]}
                rows={report.series.map((day) => [
                  day.day,
                  day.chatRequests,
                  day.apiRequests,
                  day.promptTokens,
                  day.completionTokens,
                  duration(day.p50Ms),
                  duration(day.p95Ms),
                  percent(day.errorRate),
                ])}
              />
            </div>
          </details>
          <p className="text-xs text-zinc-500 dark:text-zinc-400">
            Latency is measured from request to the last token; p50 and p95 are read from per-day latency
            histograms, exact to within one bucket. Usage of a deleted account stays in the totals but leaves
            the per-user chart. Looking for one person?{" "}
            <Link to="/admin/users" className="text-indigo-600 underline dark:text-indigo-400">
              Users
            </Link>
            .
          </p>
        </div>
      ) : null}
    </div>
  );
}
