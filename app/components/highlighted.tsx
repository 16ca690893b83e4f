import type { HighlightSegment } from "~/lib/search";

/** Text with the search matches in <mark>; every piece is rendered as text, so React escapes it. */
export function Highlighted({ segments }: { segments: HighlightSegment[] }) {
  return segments.map((segment, index) =>
    segment.mark ? (
      // biome-ignore lint/suspicious/noArrayIndexKey: the pieces never reorder
      <mark key={index} className="rounded-sm bg-amber-200 px-0.5 text-inherit dark:bg-amber-700/60">
        {segment.text}
      </mark>
    ) : (
      // biome-ignore lint/suspicious/noArrayIndexKey: the pieces never reorder
      <span key={index}>{segment.text}</span>
    ),
  );
}
