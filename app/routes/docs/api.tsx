import { exampleModel } from "~/server/chat/models.server";
import { env } from "~/server/env.server";
import type { Route } from "./+types/api";

export const meta: Route.MetaFunction = () => [{ title: "API · CustomChatAI" }];

export async function loader() {
  return { base: `${env().APP_URL}/api/v1`, model: await exampleModel() };
}

function Code({ children }: { children: string }) {
  return (
    <pre className="whitespace-pre-wrap break-words rounded bg-zinc-100 p-3 text-sm dark:bg-zinc-900">
      <code>{children}</code>
    </pre>
  );
}

function Section({ id, title, children }: { id: string; title: string; children: React.ReactNode }) {
  return (
    <section id={id} className="flex flex-col gap-3">
      <h2 className="text-xl font-semibold">{title}</h2>
      {children}
    </section>
  );
}

export default function ApiDocs({ loaderData }: Route.ComponentProps) {
  const { base, model } = loaderData;
  return (
    <article className="flex max-w-3xl flex-col gap-8 leading-relaxed">
      <header>
        <h1 className="text-2xl font-semibold">OpenAI-compatible API</h1>
        <p>
          Point any OpenAI client at <code>{base}</code> with an API key of your own. The machine-readable
          description is at{" "}
          <a className="underline" href="/api/v1/openapi.json">
            /api/v1/openapi.json
          </a>{" "}
          (OpenAPI 3.1).
        </p>
        <p className="text-sm text-zinc-600 dark:text-zinc-400" data-testid="example-model">
          {model.installed
            ? `The examples use ${model.name}, a model installed here.`
            : `The examples use ${model.name}; no model is installed yet, so ask an administrator which to use.`}{" "}
          Create a key under{" "}
          <a className="underline" href="/settings/keys">
            Settings → API keys
          </a>
          .
        </p>
      </header>

      <Section id="authentication" title="Authentication">
        <p>
          Create a key at{" "}
          <a className="underline" href="/settings/keys">
            Settings → API keys
          </a>
          . It is shown once; we keep only its SHA-256 hash. Send it as{" "}
          <code>Authorization: Bearer &lt;key&gt;</code>. A key may expire and may be limited to some models;
          revoking it takes effect on every server within a second.
        </p>
      </Section>

      <Section id="endpoints" title="Endpoints">
        <ul className="list-disc pl-6">
          <li>
            <code>POST /chat/completions</code> — messages of every role, text and <code>data:</code> image
            parts, <code>temperature</code>, <code>top_p</code>, <code>max_tokens</code> /{" "}
            <code>max_completion_tokens</code>, <code>stop</code>, <code>seed</code>, penalties,{" "}
            <code>response_format</code> (<code>json_object</code>, <code>json_schema</code>),{" "}
            <code>tools</code> and tool messages, <code>stream</code> and{" "}
            <code>stream_options.include_usage</code>. <code>n</code> greater than 1 is refused (400).
          </li>
          <li>
            <code>GET /models</code>, <code>GET /models/&#123;id&#125;</code> — ids may contain <code>/</code>{" "}
            (sent as <code>%2F</code>) and <code>:</code>.
          </li>
          <li>
            <code>POST /embeddings</code> — <code>input</code> as a string or an array,{" "}
            <code>encoding_format</code> <code>float</code> or <code>base64</code>.
          </li>
          <li>
            <code>POST /completions</code> — legacy text completions over Ollama&apos;s{" "}
            <code>/api/generate</code>: one <code>prompt</code> (a string, or an array of one),{" "}
            <code>suffix</code> for fill-in-the-middle models, <code>max_tokens</code> (no default: the model
            decides), <code>temperature</code>, <code>top_p</code>, <code>stop</code>, <code>seed</code>,{" "}
            <code>stream</code>. <code>echo</code>, several prompts, <code>n</code> and <code>best_of</code>{" "}
            above 1 are refused with a 400 naming the field.
          </li>
          <li>
            <code>POST /responses</code>, <code>GET /responses/&#123;id&#125;</code>,{" "}
            <code>DELETE /responses/&#123;id&#125;</code>,{" "}
            <code>GET /responses/&#123;id&#125;/input_items</code> — OpenAI&apos;s Responses API: see{" "}
            <a className="underline" href="#responses">
              Responses
            </a>
            .
          </li>
          <li>
            <code>GET /me</code> — checks a key: its owner and model allow-list; <code>?model=NAME</code> also
            checks that model (403 if not allowed).
          </li>
        </ul>
        <p>
          <code>HEAD</code> is answered on every <code>GET</code> endpoint. From a browser, any site may call
          the API (CORS, preflights answered; the administrator can restrict origins with{" "}
          <code>CORS_ORIGINS</code>): a key, never a cookie, authenticates, so keep keys out of public pages.
          Responses expose <code>x-request-id</code>, <code>retry-after</code> and the{" "}
          <code>x-ratelimit-*</code> headers to scripts.
        </p>
        <p>
          Token counts in <code>usage</code> are Ollama's own (<code>prompt_eval_count</code>,{" "}
          <code>eval_count</code>), for streamed calls too.
        </p>
      </Section>

      <Section id="streaming" title="Streaming">
        <p>
          With <code>stream: true</code> the answer is <code>text/event-stream</code>: a first chunk carrying
          the role, one chunk per piece of text, a separate chunk with <code>finish_reason</code>, then — with{" "}
          <code>stream_options.include_usage</code> — a chunk with <code>choices: []</code> and{" "}
          <code>usage</code>, and finally <code>data: [DONE]</code>. If the model server fails mid-stream you
          receive <code>{'data: {"error": {...}}'}</code>, which the official clients raise as an error.
          Closing the connection stops generation at once.
        </p>
      </Section>

      <Section id="responses" title="Responses">
        <p>
          <code>POST /responses</code> takes <code>input</code> as a string or as items (messages with{" "}
          <code>input_text</code> and <code>data:</code> <code>input_image</code> parts,{" "}
          <code>function_call</code>, <code>function_call_output</code>), <code>instructions</code>, function{" "}
          <code>tools</code>, <code>tool_choice</code> (<code>auto</code> or <code>none</code>: the model
          cannot be forced to call a tool, so <code>required</code> is refused), <code>text.format</code> (
          <code>json_schema</code>, <code>json_object</code>), <code>max_output_tokens</code>,{" "}
          <code>temperature</code>, <code>top_p</code>, <code>reasoning.effort</code> and <code>stream</code>.
          The answer&apos;s <code>output</code> holds a <code>reasoning</code> item for thinking models, a{" "}
          <code>message</code>, and <code>function_call</code> items; <code>output_text</code> is the text.
          Streamed, you receive <code>response.created</code>, <code>response.in_progress</code>, then per
          item <code>response.output_item.added</code> … <code>response.output_item.done</code> with the text
          and argument deltas, and <code>response.completed</code>, each with a <code>sequence_number</code>.
        </p>
        <p>
          Responses are stored (unless <code>store: false</code>) for this key only, for{" "}
          <code>RESPONSES_RETENTION_DAYS</code> (30 by default): continue a conversation with{" "}
          <code>previous_response_id</code>, read one back with <code>GET /responses/&#123;id&#125;</code>,
          list what it was given with <code>GET /responses/&#123;id&#125;/input_items</code>, remove it with{" "}
          <code>DELETE /responses/&#123;id&#125;</code>. Another key&apos;s id is a 404.
        </p>
        <h3 className="font-semibold">curl</h3>
        <Code>{`curl ${base}/responses \\
  -H "Authorization: Bearer $CUSTOMCHATAI_API_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{"model": "${model.name}", "instructions": "Be brief.", "input": "What is Ollama?"}'`}</Code>
        <h3 className="font-semibold">Python (openai)</h3>
        <Code>{`import os
from openai import OpenAI

client = OpenAI(base_url="${base}", api_key=os.environ["CUSTOMCHATAI_API_KEY"])
first = client.responses.create(model="${model.name}", input="My name is Ada.")
second = client.responses.create(
    model="${model.name}",
    input="What is my name?",
    previous_response_id=first.id,
)
print(second.output_text)`}</Code>
        <h3 className="font-semibold">Node (openai)</h3>
        <Code>{`import OpenAI from "openai";

const client = new OpenAI({ baseURL: "${base}", apiKey: process.env.CUSTOMCHATAI_API_KEY });
const stream = client.responses.stream({ model: "${model.name}", input: "Write a haiku." });
stream.on("response.output_text.delta", (event) => process.stdout.write(event.delta));
const response = await stream.finalResponse();
console.log(response.id, response.usage);`}</Code>
      </Section>

      <Section id="ollama" title="Ollama's own API">
        <p>
          Tools that speak Ollama&apos;s API rather than OpenAI&apos;s (the official <code>ollama</code>{" "}
          clients, editors, note apps) use <code>{base.replace(/\/api\/v1$/, "/ollama")}</code> as their
          Ollama host, with the same key sent as <code>Authorization: Bearer &lt;key&gt;</code>:{" "}
          <code>/api/chat</code>, <code>/api/generate</code>, <code>/api/embed</code>, <code>/api/show</code>,{" "}
          <code>/api/tags</code>, <code>/api/ps</code> and <code>/api/version</code> work as on Ollama, with
          your key&apos;s limits. Pulling, deleting and creating models is for administrators, in the app.
        </p>
        <Code>{`from ollama import Client
client = Client(host="${base.replace(/\/api\/v1$/, "/ollama")}",
                headers={"Authorization": "Bearer " + os.environ["CUSTOMCHATAI_API_KEY"]})
print(client.chat(model="${model.name}", messages=[{"role": "user", "content": "Hello!"}]).message.content)`}</Code>
      </Section>

      <Section id="errors" title="Errors">
        <p>
          Every error is OpenAI's envelope <code>{'{"error": {"message", "type", "param", "code"}}'}</code>{" "}
          with a matching status: 400 invalid request, 401 bad or missing key, 403 model not allowed for the
          key, 404 unknown model (<code>model_not_found</code>) or URL, 405 wrong method, 413 body too large,
          415 not JSON, 429 rate limited, 500 our fault, 502 the model server failed, 503 it is unreachable or
          busy, 504 it did not answer in time. Every response carries <code>x-request-id</code>; quote it when
          reporting a problem.
        </p>
      </Section>

      <Section id="rate-limits" title="Rate limits">
        <p>
          Limits apply per key and per user across all servers. Every response carries{" "}
          <code>x-ratelimit-limit-requests</code>, <code>x-ratelimit-remaining-requests</code> and{" "}
          <code>x-ratelimit-reset-requests</code> (and the <code>-tokens</code> variants when a token limit
          applies). Over the limit you get 429 with <code>code: rate_limit_exceeded</code> and{" "}
          <code>Retry-After</code>, which the official clients honour when they retry.
        </p>
      </Section>

      <Section id="examples" title="Examples">
        <h3 className="font-semibold">curl</h3>
        <Code>{`curl ${base}/chat/completions \\
  -H "Authorization: Bearer $CUSTOMCHATAI_API_KEY" \\
  -H "Content-Type: application/json" \\
  -d '{"model": "${model.name}", "messages": [{"role": "user", "content": "Hello!"}]}'`}</Code>
        <h3 className="font-semibold">Python (openai)</h3>
        <Code>{`from openai import OpenAI

client = OpenAI(base_url="${base}", api_key=os.environ["CUSTOMCHATAI_API_KEY"])
stream = client.chat.completions.create(
    model="${model.name}",
    messages=[{"role": "user", "content": "Write a haiku about the sea."}],
    stream=True,
    stream_options={"include_usage": True},
)
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.content:
        print(chunk.choices[0].delta.content, end="")`}</Code>
        <h3 className="font-semibold">Node (openai)</h3>
        <Code>{`import OpenAI from "openai";

const client = new OpenAI({ baseURL: "${base}", apiKey: process.env.CUSTOMCHATAI_API_KEY });
const completion = await client.chat.completions.create({
  model: "${model.name}",
  messages: [{ role: "user", content: "Hello!" }],
});
console.log(completion.choices[0].message.content, completion.usage);

const embedding = await client.embeddings.create({ model: "all-minilm", input: "some text" });`}</Code>
      </Section>
    </article>
  );
}
