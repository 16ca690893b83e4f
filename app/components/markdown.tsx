import { code } from "@streamdown/code";
import type { ComponentProps } from "react";
import { harden } from "rehype-harden";
import { defaultRehypePlugins, Streamdown } from "streamdown";

/**
 * Model output is untrusted. Streamdown's defaults let raw HTML through (rehype-raw) and allow every
 * link and image prefix; we drop raw HTML entirely (no rehype-raw: tags show as nothing, never run),
 * keep its sanitizer, and let rehype-harden allow only safe-protocol absolute links. Images are not loaded:
 * a remote image in a reply can leak the conversation to whoever the model was tricked into naming.
 */
const rehypePlugins = [
  defaultRehypePlugins.sanitize,
  [
    harden,
    {
      // Any absolute link, but only over rehype-harden's safe protocols (http, https, mailto, …);
      // javascript:, data:, vbscript: and relative links are dropped (shown as plain text).
      allowedLinkPrefixes: ["*"],
      allowedImagePrefixes: [],
      allowDataImages: false,
      linkBlockPolicy: "text-only",
      imageBlockPolicy: "indicator",
    },
  ],
] as ComponentProps<typeof Streamdown>["rehypePlugins"];

function SafeLink({ href, children }: ComponentProps<"a">) {
  return (
    <a
      href={href}
      target="_blank"
      rel="noopener noreferrer"
      className="text-indigo-600 underline dark:text-indigo-400"
    >
      {children}
    </a>
  );
}

const components = { a: SafeLink };
const plugins = { code };

export function Markdown({ text, streaming = false }: { text: string; streaming?: boolean }) {
  return (
    <Streamdown
      mode={streaming ? "streaming" : "static"}
      isAnimating={streaming}
      rehypePlugins={rehypePlugins}
      components={components}
      plugins={plugins}
      linkSafety={{ enabled: false }}
      className="markdown space-y-3 leading-relaxed"
    >
      {text}
    </Streamdown>
  );
}
