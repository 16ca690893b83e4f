import { AxisBottom, AxisLeft } from "@visx/axis";
import { GridRows } from "@visx/grid";
import { Group } from "@visx/group";
import { scaleBand, scaleLinear } from "@visx/scale";
import { BarStack, BarStackHorizontal, LinePath } from "@visx/shape";
import { useId } from "react";

/**
 * The admin usage charts, drawn with visx: SVG computed during render from d3 scales, with no
 * measuring and no effects, so the server sends finished charts and they need no JavaScript.
 * Each chart scales to its box (a fixed viewBox); a `<title>` on every mark is a tooltip without
 * JavaScript, and the table under each chart holds the same numbers for screen readers and copying.
 */
const WIDTH = 480;
const HEIGHT = 220;
const MARGIN = { top: 12, right: 12, bottom: 28, left: 52 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;

export const number = (value: number) => value.toLocaleString("en");
/** Coordinates to a tenth of a unit: a year of bars is thousands of them, and digits are bytes. */
const round = (value: number) => Math.round(value * 10) / 10;

/** 1234 → 1.2k, 3_400_000 → 3.4M: axis labels stay short. */
export function compact(value: number) {
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${trim(value / 1e9)}G`;
  if (abs >= 1e6) return `${trim(value / 1e6)}M`;
  if (abs >= 1e3) return `${trim(value / 1e3)}k`;
  return trim(value);
}
const trim = (value: number) => String(Number(value.toFixed(value < 10 && value % 1 ? 1 : 0)));

export function duration(ms: number | null) {
  if (ms === null) return "—";
  return ms >= 10_000 ? `${trim(ms / 1000)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`;
}

export function percent(rate: number | null) {
  return rate === null ? "—" : `${(rate * 100).toFixed(rate > 0 && rate < 0.01 ? 2 : 1)}%`;
}

export interface Series {
  key: string;
  label: string;
  /** Tailwind fill/stroke classes, light and dark. */
  fill: string;
  stroke: string;
}

export const palette = {
  chat: { fill: "fill-indigo-500 dark:fill-indigo-400", stroke: "stroke-indigo-500 dark:stroke-indigo-400" },
  api: { fill: "fill-amber-500 dark:fill-amber-400", stroke: "stroke-amber-500 dark:stroke-amber-400" },
  in: { fill: "fill-sky-500 dark:fill-sky-400", stroke: "stroke-sky-500 dark:stroke-sky-400" },
  out: {
    fill: "fill-emerald-500 dark:fill-emerald-400",
    stroke: "stroke-emerald-500 dark:stroke-emerald-400",
  },
  p50: { fill: "fill-indigo-500 dark:fill-indigo-400", stroke: "stroke-indigo-500 dark:stroke-indigo-400" },
  p95: { fill: "fill-rose-500 dark:fill-rose-400", stroke: "stroke-rose-500 dark:stroke-rose-400" },
  errors: { fill: "fill-rose-500 dark:fill-rose-400", stroke: "stroke-rose-500 dark:stroke-rose-400" },
} as const;

function Legend({ series }: { series: Series[] }) {
  if (series.length < 2) return null;
  return (
    <ul className="flex flex-wrap gap-x-4 gap-y-1 text-xs text-zinc-600 dark:text-zinc-400">
      {series.map((item) => (
        <li key={item.key} className="flex items-center gap-1.5">
          <svg width="10" height="10" aria-hidden="true">
            <rect width="10" height="10" rx="2" className={item.fill} />
          </svg>
          {item.label}
        </li>
      ))}
    </ul>
  );
}

function ChartFrame({
  title,
  summary,
  series,
  testId,
  table,
  children,
}: {
  title: string;
  summary: string;
  series: Series[];
  testId: string;
  /** The chart's numbers; the per-day charts share one table on the page instead. */
  table?: React.ReactNode;
  children: React.ReactNode;
}) {
  const id = useId();
  return (
    <figure
      className="flex min-w-0 flex-col gap-2 rounded border border-zinc-200 p-3 dark:border-zinc-800"
      data-testid={testId}
    >
      <figcaption className="flex flex-wrap items-baseline justify-between gap-x-3">
        <span id={`${id}-title`} className="font-medium">
          {title}
        </span>
        <span className="text-sm text-zinc-600 dark:text-zinc-400" data-testid={`${testId}-summary`}>
          {summary}
        </span>
      </figcaption>
      <Legend series={series} />
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        className="h-auto w-full text-zinc-500 dark:text-zinc-400"
        role="img"
        aria-labelledby={`${id}-title`}
      >
        {children}
      </svg>
      {table ? (
        <details className="text-sm">
          <summary className="cursor-pointer text-zinc-600 dark:text-zinc-400">Show the numbers</summary>
          <div className="mt-2 max-h-72 overflow-auto">{table}</div>
        </details>
      ) : null}
    </figure>
  );
}

const tickLabel = { fill: "currentColor", fontSize: 12, fontFamily: "inherit" } as const;

/** About six labelled days along the bottom, whatever the range. */
function dayTicks(days: string[]) {
  if (days.length <= 7) return days;
  const step = Math.ceil(days.length / 6);
  return days.filter((_, i) => i % step === 0);
}
const shortDay = (day: string) => day.slice(5);

function DayAxes({
  days,
  xScale,
  yScale,
  format,
}: {
  days: string[];
  xScale: ReturnType<typeof scaleBand<string>>;
  yScale: ReturnType<typeof scaleLinear<number>>;
  format: (value: number) => string;
}) {
  return (
    <>
      <GridRows scale={yScale} width={PLOT_W} numTicks={4} stroke="currentColor" strokeOpacity={0.2} />
      <AxisLeft
        scale={yScale}
        numTicks={4}
        stroke="currentColor"
        tickStroke="currentColor"
        tickFormat={(value) => format(Number(value))}
        tickLabelProps={{ ...tickLabel, textAnchor: "end", dx: -2, dy: 3 }}
      />
      <AxisBottom
        top={PLOT_H}
        scale={xScale}
        tickValues={dayTicks(days)}
        stroke="currentColor"
        tickStroke="currentColor"
        tickFormat={(value) => shortDay(String(value))}
        tickLabelProps={{ ...tickLabel, textAnchor: "middle" }}
      />
    </>
  );
}

function niceMax(max: number) {
  return max > 0 ? max : 1;
}

export function NumbersTable({
  head,
  rows,
  testId,
}: {
  head: string[];
  rows: (string | number)[][];
  testId: string;
}) {
  // Cell styles sit on the table (a year is 3,000 cells), not on each cell.
  return (
    <table
      className="w-full text-left text-xs tabular-nums [&_td]:py-0.5 [&_td]:pr-3 [&_td+td]:text-right [&_th]:py-1 [&_th]:pr-3 [&_th+th]:text-right [&_tbody_tr]:border-t [&_tbody_tr]:border-zinc-200 dark:[&_tbody_tr]:border-zinc-800"
      data-testid={testId}
    >
      <thead className="text-zinc-500 dark:text-zinc-400">
        <tr>
          {head.map((cell) => (
            <th key={cell}>{cell}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={String(row[0])}>
            {row.map((cell, i) => (
              <td key={head[i]}>{typeof cell === "number" ? number(cell) : cell}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Stacked bars per day (requests by source, tokens in/out). */
export function StackedDayChart<Row extends { day: string }>({
  title,
  summary,
  testId,
  data,
  series,
  value,
}: {
  title: string;
  summary: string;
  testId: string;
  data: Row[];
  series: Series[];
  value: (row: Row, key: string) => number;
}) {
  const days = data.map((row) => row.day);
  const keys = series.map((item) => item.key);
  const byKey = new Map(series.map((item) => [item.key, item]));
  const xScale = scaleBand<string>({
    domain: days,
    range: [0, PLOT_W],
    padding: days.length > 60 ? 0.1 : 0.2,
  });
  const max = Math.max(0, ...data.map((row) => keys.reduce((sum, key) => sum + value(row, key), 0)));
  const yScale = scaleLinear<number>({ domain: [0, niceMax(max)], range: [PLOT_H, 0], nice: true });
  const stacked = data.map((row) => ({
    day: row.day,
    ...Object.fromEntries(keys.map((key) => [key, value(row, key)])),
  }));
  return (
    <ChartFrame title={title} summary={summary} series={series} testId={testId}>
      <Group left={MARGIN.left} top={MARGIN.top}>
        <DayAxes days={days} xScale={xScale} yScale={yScale} format={compact} />
        <BarStack<(typeof stacked)[number], string>
          data={stacked}
          keys={keys}
          x={(row) => row.day}
          xScale={xScale}
          yScale={yScale}
          color={(key) => key}
        >
          {(stacks) =>
            stacks.map((stack) => (
              <g
                key={String(stack.key)}
                className={byKey.get(String(stack.key))?.fill}
                data-series={String(stack.key)}
              >
                {stack.bars
                  .filter((bar) => bar.height > 0)
                  .map((bar) => (
                    <rect
                      key={bar.index}
                      x={round(bar.x)}
                      y={round(bar.y)}
                      width={round(Math.max(bar.width, 0.5))}
                      height={round(bar.height)}
                      data-value={bar.bar[1] - bar.bar[0]}
                    >
                      {/* A bar a pixel wide is no place to point at: long ranges skip the tooltips. */}
                      {data.length <= 92 ? (
                        <title>{`${bar.bar.data.day}: ${number(bar.bar[1] - bar.bar[0])}`}</title>
                      ) : null}
                    </rect>
                  ))}
              </g>
            ))
          }
        </BarStack>
      </Group>
    </ChartFrame>
  );
}

/** Lines per day (latency percentiles, error rate); days without a value leave a gap. */
export function LineDayChart<Row extends { day: string }>({
  title,
  summary,
  testId,
  data,
  series,
  value,
  format,
}: {
  title: string;
  summary: string;
  testId: string;
  data: Row[];
  series: Series[];
  value: (row: Row, key: string) => number | null;
  format: (value: number) => string;
}) {
  const days = data.map((row) => row.day);
  const xScale = scaleBand<string>({ domain: days, range: [0, PLOT_W], padding: 0 });
  const half = xScale.bandwidth() / 2;
  const values = data.flatMap((row) => series.map((item) => value(row, item.key) ?? 0));
  const yScale = scaleLinear<number>({
    domain: [0, niceMax(Math.max(0, ...values))],
    range: [PLOT_H, 0],
    nice: true,
  });
  return (
    <ChartFrame title={title} summary={summary} series={series} testId={testId}>
      <Group left={MARGIN.left} top={MARGIN.top}>
        <DayAxes days={days} xScale={xScale} yScale={yScale} format={format} />
        {series.map((item) => (
          <g key={item.key} data-series={item.key}>
            <LinePath<Row>
              data={data}
              defined={(row) => value(row, item.key) !== null}
              x={(row) => (xScale(row.day) ?? 0) + half}
              y={(row) => yScale(value(row, item.key) ?? 0)}
              className={`${item.stroke} fill-none`}
              strokeWidth={1.75}
            />
            {/* A dot per day when there are few, so a lone day between gaps still shows. */}
            {data.length <= 62
              ? data.map((row) => {
                  const v = value(row, item.key);
                  return v === null ? null : (
                    <circle
                      key={row.day}
                      cx={(xScale(row.day) ?? 0) + half}
                      cy={yScale(v)}
                      r={2.5}
                      className={item.fill}
                    >
                      <title>{`${row.day} · ${item.label}: ${format(v)}`}</title>
                    </circle>
                  );
                })
              : null}
          </g>
        ))}
      </Group>
    </ChartFrame>
  );
}

/** Horizontal stacked bars (tokens in/out) for the top models or users. */
export function TopChart<Row extends { label: string }>({
  title,
  summary,
  testId,
  data,
  series,
  value,
  empty,
}: {
  title: string;
  summary: string;
  testId: string;
  data: Row[];
  series: Series[];
  value: (row: Row, key: string) => number;
  empty: string;
}) {
  const keys = series.map((item) => item.key);
  const byKey = new Map(series.map((item) => [item.key, item]));
  const labels = data.map((row) => row.label);
  const left = 150;
  const width = WIDTH - left - MARGIN.right;
  const yScale = scaleBand<string>({ domain: labels, range: [0, PLOT_H], padding: 0.25 });
  const max = Math.max(0, ...data.map((row) => keys.reduce((sum, key) => sum + value(row, key), 0)));
  const xScale = scaleLinear<number>({ domain: [0, niceMax(max)], range: [0, width], nice: true });
  const stacked = data.map((row) => ({
    label: row.label,
    ...Object.fromEntries(keys.map((key) => [key, value(row, key)])),
  }));
  const shorten = (label: string) => (label.length > 18 ? `${label.slice(0, 17)}…` : label);
  return (
    <ChartFrame
      title={title}
      summary={summary}
      series={series}
      testId={testId}
      table={
        <NumbersTable
          testId={`${testId}-table`}
          head={["Name", ...series.map((item) => item.label)]}
          rows={data.map((row) => [row.label, ...keys.map((key) => value(row, key))])}
        />
      }
    >
      {data.length === 0 ? (
        <text x={WIDTH / 2} y={HEIGHT / 2} textAnchor="middle" fill="currentColor" fontSize={13}>
          {empty}
        </text>
      ) : (
        <Group left={left} top={MARGIN.top}>
          <AxisLeft
            scale={yScale}
            stroke="currentColor"
            tickStroke="currentColor"
            hideTicks
            tickFormat={(label) => shorten(String(label))}
            tickLabelProps={{ ...tickLabel, textAnchor: "end", dx: -4, dy: 3 }}
          />
          <AxisBottom
            top={PLOT_H}
            scale={xScale}
            numTicks={4}
            stroke="currentColor"
            tickStroke="currentColor"
            tickFormat={(value) => compact(Number(value))}
            tickLabelProps={{ ...tickLabel, textAnchor: "middle" }}
          />
          <BarStackHorizontal<(typeof stacked)[number], string>
            data={stacked}
            keys={keys}
            y={(row) => row.label}
            xScale={xScale}
            yScale={yScale}
            color={(key) => key}
          >
            {(stacks) =>
              stacks.map((stack) => (
                <g
                  key={String(stack.key)}
                  className={byKey.get(String(stack.key))?.fill}
                  data-series={String(stack.key)}
                >
                  {stack.bars
                    .filter((bar) => bar.width > 0)
                    .map((bar) => (
                      <rect
                        key={bar.index}
                        x={round(bar.x)}
                        y={round(bar.y)}
                        width={round(bar.width)}
                        height={round(bar.height)}
                        data-value={bar.bar[1] - bar.bar[0]}
                      >
                        <title>
                          {`${bar.bar.data.label} · ${byKey.get(String(stack.key))?.label}: ${number(bar.bar[1] - bar.bar[0])}`}
                        </title>
                      </rect>
                    ))}
                </g>
              ))
            }
          </BarStackHorizontal>
        </Group>
      )}
    </ChartFrame>
  );
}
