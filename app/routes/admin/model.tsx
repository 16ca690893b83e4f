import { data, Form, Link, redirect } from "react-router";
import { Badge, formatDate, modelPath } from "~/components/admin/models";
import {
  displayNameSchema,
  formatBytes,
  MAX_DISPLAY_NAME_CHARS,
  modelNameInputSchema,
} from "~/lib/model-schemas";
import { recordAuditEvent } from "~/server/admin/audit.server";
import { requireAdminAction, requireAdminPage } from "~/server/admin/guard.server";
import {
  adminModelDetails,
  deleteInstalledModel,
  ModelAdminError,
  updateModelSettings,
} from "~/server/models/admin.server";
import type { Route } from "./+types/model";

export const meta: Route.MetaFunction = ({ data }) => [
  { title: `${data?.model.name ?? "Model"} · Models · Administration · CustomChatAI` },
];

function parseName(params: Route.LoaderArgs["params"]) {
  const name = modelNameInputSchema.safeParse(params["*"] ?? "");
  if (!name.success) throw new Response("There is no such model.", { status: 404 });
  return name.data;
}

const LICENCE_EXCERPT_CHARS = 600;

export async function loader({ request, params }: Route.LoaderArgs) {
  await requireAdminPage(request);
  const name = parseName(params);
  try {
    const model = await adminModelDetails(name);
    const licence = model.details?.license?.trim();
    return {
      model: {
        ...model,
        details: model.details
          ? {
              ...model.details,
              license: undefined,
              licenceExcerpt: licence ? licence.slice(0, LICENCE_EXCERPT_CHARS) : null,
              licenceCut: Boolean(licence && licence.length > LICENCE_EXCERPT_CHARS),
            }
          : null,
      },
      confirmingDelete: new URL(request.url).searchParams.get("delete") === "1",
    };
  } catch (error) {
    if (error instanceof ModelAdminError) throw new Response(error.message, { status: error.status });
    throw error;
  }
}

type ActionResult = { error: string; field: "settings" | "delete" };

export async function action({ request, params }: Route.ActionArgs) {
  const admin = await requireAdminAction(request);
  const name = modelNameInputSchema.safeParse(params["*"] ?? "");
  if (!name.success)
    return data<ActionResult>({ field: "settings", error: "There is no such model." }, { status: 404 });
  const form = await request.formData();
  try {
    switch (form.get("intent")) {
      case "settings": {
        const displayName = displayNameSchema.safeParse(form.get("displayName") ?? "");
        if (!displayName.success) {
          return data<ActionResult>(
            { field: "settings", error: displayName.error.issues[0].message },
            { status: 400 },
          );
        }
        const hidden = form.get("hidden");
        if (hidden !== null && hidden !== "on") {
          return data<ActionResult>({ field: "settings", error: "Unknown visibility." }, { status: 400 });
        }
        const { model, changes } = await updateModelSettings(name.data, {
          displayName: displayName.data,
          hidden: hidden === "on",
        });
        if (changes.length) {
          await recordAuditEvent({
            actorId: admin.id,
            action: "model.visibility_changed",
            targetType: "model",
            targetId: model,
            after: { changes, displayName: displayName.data, hidden: hidden === "on" },
          });
        }
        throw redirect(modelPath(model));
      }
      case "delete": {
        const deleted = await deleteInstalledModel(name.data);
        await recordAuditEvent({
          actorId: admin.id,
          action: "model.deleted",
          targetType: "model",
          targetId: deleted,
        });
        throw redirect(`/admin/models?${new URLSearchParams({ deleted })}`);
      }
      default:
        return data<ActionResult>({ field: "settings", error: "Unknown action." }, { status: 400 });
    }
  } catch (error) {
    if (error instanceof ModelAdminError) {
      const field = form.get("intent") === "delete" ? "delete" : "settings";
      return data<ActionResult>({ field, error: error.message }, { status: error.status });
    }
    throw error;
  }
}

const term = "text-zinc-500 dark:text-zinc-400";

export default function ModelDetails({ loaderData, actionData }: Route.ComponentProps) {
  const { model, confirmingDelete } = loaderData;
  const details = model.details;
  const here = modelPath(model.name);
  return (
    <div className="flex max-w-3xl flex-col gap-8">
      <div className="flex flex-col gap-1">
        <Link to="/admin/models" className="text-sm text-indigo-700 underline dark:text-indigo-300">
          ← All models
        </Link>
        <h1 className="break-all font-mono text-2xl font-semibold">{model.name}</h1>
        <div className="flex flex-wrap gap-1">
          {model.displayName ? <Badge tone="zinc">shown as “{model.displayName}”</Badge> : null}
          {model.isDefault ? <Badge tone="indigo">default for new chats</Badge> : null}
          {model.hidden ? <Badge tone="zinc">hidden from users</Badge> : null}
        </div>
      </div>

      <dl className="grid grid-cols-[max-content_1fr] gap-x-6 gap-y-1 text-sm" data-testid="model-facts">
        <dt className={term}>Family</dt>
        <dd>{model.family ?? details?.family ?? "—"}</dd>
        <dt className={term}>Parameters</dt>
        <dd>{model.parameterSize ?? "—"}</dd>
        <dt className={term}>Quantisation</dt>
        <dd>{model.quantization ?? "—"}</dd>
        <dt className={term}>Size on disk</dt>
        <dd>{formatBytes(model.size)}</dd>
        <dt className={term}>Modified</dt>
        <dd>{model.modifiedAt ? formatDate(model.modifiedAt) : "—"}</dd>
        <dt className={term}>Context length</dt>
        <dd data-testid="context-length">{details?.contextLength?.toLocaleString("en") ?? "—"}</dd>
        <dt className={term}>Capabilities</dt>
        <dd className="flex flex-wrap gap-1" data-testid="capabilities">
          {details?.capabilities.length
            ? details.capabilities.map((capability) => (
                <Badge key={capability} tone="zinc">
                  {capability}
                </Badge>
              ))
            : "—"}
        </dd>
        <dt className={term}>In memory</dt>
        <dd>
          {model.loaded
            ? `yes, ${formatBytes(model.loaded.sizeVram)} VRAM${model.loaded.expiresAt ? `, until ${formatDate(model.loaded.expiresAt)}` : ""}`
            : "no"}
        </dd>
      </dl>
      {model.detailsProblem ? (
        <p role="alert" className="text-sm text-amber-800 dark:text-amber-200">
          Ollama gave no details: {model.detailsProblem}
        </p>
      ) : null}

      <section className="flex flex-col gap-3" aria-labelledby="settings-heading">
        <h2 id="settings-heading" className="text-lg font-semibold">
          For users
        </h2>
        <Form method="post" className="flex flex-col gap-3">
          <input type="hidden" name="intent" value="settings" />
          <div className="flex flex-col gap-1">
            <label htmlFor="displayName" className="text-sm font-medium">
              Display name in the chat picker (empty: the model's own name)
            </label>
            <input
              id="displayName"
              name="displayName"
              defaultValue={model.displayName ?? ""}
              maxLength={MAX_DISPLAY_NAME_CHARS}
              className="rounded border border-zinc-300 bg-white px-3 py-2 text-sm dark:border-zinc-700 dark:bg-zinc-900"
            />
          </div>
          <label className="flex items-start gap-2 text-sm">
            <input type="checkbox" name="hidden" defaultChecked={model.hidden} className="mt-1" />
            <span>
              Hide from users: not in the chat picker or <code>/api/v1/models</code>, and refused like an
              unknown model in chats and API calls.
            </span>
          </label>
          {actionData?.field === "settings" ? (
            <p role="alert" className="text-sm text-red-600 dark:text-red-400">
              {actionData.error}
            </p>
          ) : null}
          <button
            type="submit"
            className="self-start rounded bg-indigo-600 px-3 py-1.5 text-sm text-white hover:bg-indigo-500"
          >
            Save
          </button>
        </Form>
      </section>

      {details ? (
        <section className="flex flex-col gap-3" aria-labelledby="ollama-heading">
          <h2 id="ollama-heading" className="text-lg font-semibold">
            From Ollama
          </h2>
          {details.licenceExcerpt ? (
            <div className="flex flex-col gap-1">
              <h3 className="text-sm font-medium">Licence (excerpt)</h3>
              <pre
                className="max-h-48 overflow-auto whitespace-pre-wrap rounded bg-zinc-100 p-3 text-xs dark:bg-zinc-900"
                data-testid="licence"
              >
                {details.licenceExcerpt}
                {details.licenceCut ? "…" : ""}
              </pre>
            </div>
          ) : null}
          {[
            ["Template", details.template],
            ["Parameters", details.parameters],
            ["Modelfile", details.modelfile],
          ].map(([label, text]) =>
            text ? (
              <details key={label} className="text-sm">
                <summary className="cursor-pointer font-medium">{label}</summary>
                <pre className="mt-2 max-h-80 overflow-auto rounded bg-zinc-100 p-3 text-xs dark:bg-zinc-900">
                  {text}
                </pre>
              </details>
            ) : null,
          )}
        </section>
      ) : null}

      <section className="flex flex-col gap-3" aria-labelledby="delete-heading">
        <h2 id="delete-heading" className="text-lg font-semibold">
          Delete
        </h2>
        {actionData?.field === "delete" ? (
          <p role="alert" className="text-sm text-red-600 dark:text-red-400" data-testid="delete-error">
            {actionData.error}
          </p>
        ) : null}
        {model.pulling ? (
          <p className="text-sm text-zinc-600 dark:text-zinc-400">
            This model is being pulled; it can be deleted once the pull has ended.
          </p>
        ) : confirmingDelete ? (
          <Form
            method="post"
            className="flex flex-col gap-2 rounded border border-red-300 bg-red-50 p-3 text-sm dark:border-red-900 dark:bg-red-950"
          >
            <input type="hidden" name="intent" value="delete" />
            <p>
              Delete <span className="font-mono">{model.name}</span> from Ollama? Users lose it at once; it
              can be pulled again later.
            </p>
            <div className="flex gap-2">
              <button type="submit" className="rounded bg-red-700 px-3 py-1.5 text-white hover:bg-red-600">
                Delete model
              </button>
              <Link to={here} className="rounded border border-zinc-300 px-3 py-1.5 dark:border-zinc-700">
                Keep it
              </Link>
            </div>
          </Form>
        ) : (
          <Link
            to={`${here}?delete=1`}
            className="self-start rounded border border-red-300 px-3 py-1.5 text-sm text-red-700 dark:border-red-900 dark:text-red-300"
          >
            Delete…
          </Link>
        )}
      </section>
    </div>
  );
}
