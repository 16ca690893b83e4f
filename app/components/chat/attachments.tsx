import { useEffect, useRef, useState } from "react";
import {
  formatImageBytes,
  IMAGE_ACCEPT,
  IMAGE_LIMITS_TEXT,
  IMAGE_TYPES,
  MAX_IMAGE_BYTES,
  MAX_IMAGES_PER_MESSAGE,
} from "~/lib/images";
import { AttachIcon } from "./icons";
import { useHydrated } from "./use-hydrated";

/**
 * Images for the message, inside the composer's form (which must be multipart/form-data).
 *
 * The file input itself is what gets sent, so without JavaScript it is a plain file picker. With
 * JavaScript, images pasted into the form or dropped onto it are added to that same input, and
 * each chosen image shows as a thumbnail with a remove button. The server checks everything again
 * (type by content, size, count, whether the model can see).
 */
export function Attachments() {
  const inputRef = useRef<HTMLInputElement>(null);
  const [files, setFiles] = useState<File[]>([]);
  const [dragging, setDragging] = useState(false);
  const hydrated = useHydrated();

  // Paste and drop work anywhere on the composer, not just on the input.
  useEffect(() => {
    const input = inputRef.current;
    const form = input?.form;
    if (!input || !form) return;
    const add = (added: File[]) => {
      const images = added.filter((file) => (IMAGE_TYPES as readonly string[]).includes(file.type));
      if (images.length === 0) return false;
      setInputFiles(input, [...(input.files ? Array.from(input.files) : []), ...images]);
      setFiles(Array.from(input.files ?? []));
      return true;
    };
    const onPaste = (event: ClipboardEvent) => {
      if (add(Array.from(event.clipboardData?.files ?? []))) event.preventDefault();
    };
    const carriesFiles = (event: DragEvent) => event.dataTransfer?.types.includes("Files") ?? false;
    const onDragOver = (event: DragEvent) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      setDragging(true);
    };
    const onDragLeave = (event: DragEvent) => {
      if (!form.contains(event.relatedTarget as Node | null)) setDragging(false);
    };
    const onDrop = (event: DragEvent) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      setDragging(false);
      add(Array.from(event.dataTransfer?.files ?? []));
    };
    // The composer clears itself after a send: the thumbnails go with the files.
    const onReset = () => setFiles([]);
    form.addEventListener("paste", onPaste);
    form.addEventListener("dragover", onDragOver);
    form.addEventListener("dragleave", onDragLeave);
    form.addEventListener("drop", onDrop);
    form.addEventListener("reset", onReset);
    return () => {
      form.removeEventListener("paste", onPaste);
      form.removeEventListener("dragover", onDragOver);
      form.removeEventListener("dragleave", onDragLeave);
      form.removeEventListener("drop", onDrop);
      form.removeEventListener("reset", onReset);
    };
  }, []);

  const remove = (index: number) => {
    const input = inputRef.current;
    if (!input) return;
    setInputFiles(
      input,
      files.filter((_, i) => i !== index),
    );
    setFiles(Array.from(input.files ?? []));
  };

  const tooMany = files.length > MAX_IMAGES_PER_MESSAGE;
  const tooBig = files.filter((file) => file.size > MAX_IMAGE_BYTES);

  return (
    <div className="flex flex-col gap-1 text-sm" data-testid="attachments">
      {files.length > 0 ? (
        <ul className="flex flex-wrap gap-3 pt-2" aria-label="Attached images">
          {files.map((file, index) => (
            <AttachmentThumbnail key={fileKey(file)} file={file} onRemove={() => remove(index)} />
          ))}
        </ul>
      ) : null}
      {tooMany || tooBig.length > 0 ? (
        <p className="text-amber-700 dark:text-amber-300" data-testid="attachments-warning">
          {tooMany
            ? `At most ${MAX_IMAGES_PER_MESSAGE} images per message: remove ${files.length - MAX_IMAGES_PER_MESSAGE}.`
            : `Too large (over ${formatImageBytes(MAX_IMAGE_BYTES)}): ${tooBig.map((file) => file.name).join(", ")}.`}
        </p>
      ) : null}
      {dragging ? (
        <p className="rounded border-2 border-dashed border-indigo-400 px-3 py-2 text-center text-indigo-700 dark:text-indigo-300">
          Drop images to attach them
        </p>
      ) : null}
      {/* Without JavaScript the native picker shows what was chosen; with it, the thumbnails above
          do, and the picker becomes a small button (the input stays in the label, focusable). */}
      <label
        className={
          hydrated
            ? "inline-flex cursor-pointer items-center gap-1.5 self-start rounded-lg px-2 py-1 text-zinc-700 focus-within:ring-2 focus-within:ring-indigo-500 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800"
            : "flex flex-wrap items-center gap-2 text-zinc-700 dark:text-zinc-300"
        }
        title={hydrated ? `${IMAGE_LIMITS_TEXT}; paste or drop them here too` : undefined}
      >
        {hydrated ? null : <span>Attach images</span>}
        {hydrated ? (
          <span aria-hidden="true" className="inline-flex items-center gap-1.5 text-sm">
            <AttachIcon />
            Attach images
          </span>
        ) : null}
        <input
          ref={inputRef}
          type="file"
          name="images"
          multiple
          accept={IMAGE_ACCEPT}
          aria-label="Attach images"
          aria-describedby="attachments-limits"
          onChange={(event) => setFiles(Array.from(event.currentTarget.files ?? []))}
          className={
            hydrated
              ? "sr-only"
              : "max-w-full text-sm file:mr-2 file:rounded file:border file:border-zinc-300 file:bg-white file:px-2 file:py-1 file:text-zinc-700 dark:file:border-zinc-700 dark:file:bg-zinc-900 dark:file:text-zinc-200"
          }
        />
      </label>
      <p
        id="attachments-limits"
        className={hydrated ? "sr-only" : "text-xs text-zinc-600 dark:text-zinc-400"}
      >
        {IMAGE_LIMITS_TEXT}, for models that can see images
        {hydrated ? "; you can also paste or drop them here" : ""}.
      </p>
    </div>
  );
}

// Files have no id of their own; a number per File object keeps each thumbnail's state with it.
const fileKeys = new WeakMap<File, number>();
let lastFileKey = 0;
function fileKey(file: File) {
  let key = fileKeys.get(file);
  if (key === undefined) {
    key = ++lastFileKey;
    fileKeys.set(file, key);
  }
  return key;
}

/** Replaces the input's files (a FileList cannot be edited, only swapped for a new one). */
function setInputFiles(input: HTMLInputElement, files: File[]) {
  const transfer = new DataTransfer();
  for (const file of files) transfer.items.add(file);
  input.files = transfer.files;
}

function AttachmentThumbnail({ file, onRemove }: { file: File; onRemove: () => void }) {
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    const objectUrl = URL.createObjectURL(file);
    setUrl(objectUrl);
    return () => URL.revokeObjectURL(objectUrl);
  }, [file]);
  return (
    <li className="relative" data-testid="attachment">
      {url ? (
        <img
          src={url}
          alt={file.name || "Pasted from the clipboard"}
          className="h-16 w-16 rounded border border-zinc-300 object-cover dark:border-zinc-700"
        />
      ) : null}
      <button
        type="button"
        onClick={onRemove}
        aria-label={`Remove ${file.name || "image"}`}
        className="absolute -top-2 -right-2 flex h-6 w-6 items-center justify-center rounded-full bg-zinc-800 text-xs text-white shadow hover:bg-red-600 dark:bg-zinc-200 dark:text-zinc-900"
      >
        ✕
      </button>
    </li>
  );
}
