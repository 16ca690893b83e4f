/**
 * OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json. The /docs/api page is written
 * from the same facts; a test checks that every path documented here answers.
 */

const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
});

const rateLimitHeaders = {
  "x-ratelimit-limit-requests": { schema: { type: "integer" }, description: "Requests allowed per window." },
  "x-ratelimit-remaining-requests": {
    schema: { type: "integer" },
    description: "Requests left in this window.",
  },
  "x-ratelimit-reset-requests": {
    schema: { type: "string", examples: ["1s", "6m0s"] },
    description: "Time until the request allowance is full again.",
  },
  "x-request-id": { schema: { type: "string" }, description: "Identifies the request in our logs." },
};

const commonErrors = {
  "400": errorResponse("Invalid request (the envelope's `param` names the field)."),
  "401": errorResponse("Missing, unknown, revoked or expired API key."),
  "403": errorResponse("The key may not use this model, or the account is disabled."),
  "404": errorResponse("Unknown model (`code: model_not_found`)."),
  "429": {
    ...errorResponse("Rate limit exceeded (`code: rate_limit_exceeded`); see `Retry-After`."),
    headers: { "retry-after": { schema: { type: "integer" }, description: "Seconds to wait." } },
  },
  "502": errorResponse("The model server failed."),
  "503": errorResponse("The model server is unreachable or busy."),
  "504": errorResponse("The model server did not answer in time."),
};

const responseIdParameter = {
  name: "response_id",
  in: "path",
  required: true,
  schema: { type: "string" },
  description: "A `resp_...` id returned by POST /responses.",
};

export function openApiDocument(serverUrl: string, version: string) {
  return {
    openapi: "3.1.0",
    info: {
      title: "CustomChatAI OpenAI-compatible API",
      version,
      description:
        "Chat completions, responses, models and embeddings over the organisation's Ollama models, in OpenAI's wire format. Authenticate with `Authorization: Bearer <API key>` (create keys at /settings/keys).",
    },
    servers: [{ url: `${serverUrl}/api/v1` }],
    security: [{ bearer: [] }],
    paths: {
      "/chat/completions": {
        post: {
          summary: "Create a chat completion (streamed with `stream: true`)",
          operationId: "createChatCompletion",
          requestBody: {
            required: true,
            content: {
              "application/json": { schema: { $ref: "#/components/schemas/ChatCompletionRequest" } },
            },
          },
          responses: {
            "200": {
              description:
                'A `chat.completion` object, or with `stream: true` a `text/event-stream` of `chat.completion.chunk` objects ending with `data: [DONE]`. A failure after the stream started arrives as a `data: {"error": {...}}` event.',
              headers: rateLimitHeaders,
              content: {
                "application/json": { schema: { $ref: "#/components/schemas/ChatCompletion" } },
                "text/event-stream": { schema: { type: "string" } },
              },
            },
            ...commonErrors,
            "413": errorResponse("Request body too large."),
            "415": errorResponse("The body is not JSON."),
          },
        },
      },
      "/models": {
        get: {
          summary: "List the models this key may use",
          operationId: "listModels",
          responses: {
            "200": {
              description: "The installed Ollama models (filtered by the key's allow-list).",
              headers: rateLimitHeaders,
              content: {
                "application/json": {
                  schema: {
                    type: "object",
                    required: ["object", "data"],
                    properties: {
                      object: { const: "list" },
                      data: { type: "array", items: { $ref: "#/components/schemas/Model" } },
                    },
                  },
                },
              },
            },
            ...commonErrors,
          },
        },
      },
      "/completions": {
        post: {
          summary: "Create a legacy text completion (Ollama's /api/generate; streamed with `stream: true`)",
          operationId: "createCompletion",
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  required: ["model", "prompt"],
                  properties: {
                    model: { type: "string" },
                    prompt: {
                      oneOf: [
                        { type: "string" },
                        { type: "array", items: { type: "string" }, minItems: 1, maxItems: 1 },
                      ],
                    },
                    suffix: {
                      type: "string",
                      description: "Fill-in-the-middle, for models that support it.",
                    },
                    max_tokens: { type: "integer", minimum: 1 },
                    temperature: { type: "number", minimum: 0, maximum: 2 },
                    top_p: { type: "number", minimum: 0, maximum: 1 },
                    stop: { oneOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] },
                    seed: { type: "integer" },
                    stream: { type: "boolean" },
                    echo: { const: false, description: "Not supported: `true` is refused with a 400." },
                  },
                },
              },
            },
          },
          responses: {
            "200": {
              description:
                "A `text_completion` object (`choices[0].text`), or with `stream: true` a `text/event-stream` of `text_completion` chunks ending with `data: [DONE]`.",
              headers: rateLimitHeaders,
              content: {
                "application/json": { schema: { type: "object" } },
                "text/event-stream": { schema: { type: "string" } },
              },
            },
            ...commonErrors,
          },
        },
      },
      "/me": {
        get: {
          summary: "Check a key: who it belongs to and which models it may use",
          operationId: "getMe",
          parameters: [
            {
              name: "model",
              in: "query",
              required: false,
              schema: { type: "string" },
              description: "Also check that the key may use this model (403 if not).",
            },
          ],
          responses: {
            "200": {
              description: "The key's owner and allow-list (null: every model).",
              headers: rateLimitHeaders,
              content: {
                "application/json": {
                  schema: {
                    type: "object",
                    required: ["object", "user_id", "key_id", "allowed_models"],
                    properties: {
                      object: { const: "api_key" },
                      user_id: { type: "string" },
                      key_id: { type: "string" },
                      allowed_models: {
                        oneOf: [{ type: "null" }, { type: "array", items: { type: "string" } }],
                      },
                      model: { type: "string" },
                      model_allowed: { type: "boolean" },
                    },
                  },
                },
              },
            },
            ...commonErrors,
          },
        },
      },
      "/models/{model}": {
        get: {
          summary: "Retrieve one model (ids may contain `/`, sent as `%2F`, and `:`)",
          operationId: "retrieveModel",
          parameters: [{ name: "model", in: "path", required: true, schema: { type: "string" } }],
          responses: {
            "200": {
              description: "The model.",
              headers: rateLimitHeaders,
              content: { "application/json": { schema: { $ref: "#/components/schemas/Model" } } },
            },
            ...commonErrors,
          },
        },
      },
      "/responses": {
        post: {
          summary:
            "Create a response (OpenAI's Responses API; stored per key unless `store: false`; streamed with `stream: true`)",
          operationId: "createResponse",
          requestBody: {
            required: true,
            content: {
              "application/json": { schema: { $ref: "#/components/schemas/ResponseRequest" } },
            },
          },
          responses: {
            "200": {
              description:
                "A `response` object (`output` items: `reasoning`, `message`, `function_call`; `output_text`; `usage`), or with `stream: true` a `text/event-stream` of typed events (`response.created`, `response.in_progress`, `response.output_item.added`, `response.content_part.added`, `response.output_text.delta`/`.done`, `response.function_call_arguments.delta`/`.done`, ..., `response.completed`), each with `sequence_number`. A failure after the stream started arrives as an `error` event followed by `response.failed`.",
              headers: rateLimitHeaders,
              content: {
                "application/json": { schema: { $ref: "#/components/schemas/Response" } },
                "text/event-stream": { schema: { type: "string" } },
              },
            },
            ...commonErrors,
            "404": errorResponse("Unknown model, or a `previous_response_id` this key does not own."),
            "413": errorResponse("Request body too large."),
            "415": errorResponse("The body is not JSON."),
          },
        },
      },
      "/responses/{response_id}": {
        get: {
          summary: "Retrieve a stored response (only with the key that created it)",
          operationId: "getResponse",
          parameters: [responseIdParameter],
          responses: {
            "200": {
              description: "The response, as it was returned when created.",
              headers: rateLimitHeaders,
              content: { "application/json": { schema: { $ref: "#/components/schemas/Response" } } },
            },
            ...commonErrors,
            "404": errorResponse("No such response for this key (another key's, deleted or expired)."),
          },
        },
        delete: {
          summary: "Delete a stored response",
          operationId: "deleteResponse",
          parameters: [responseIdParameter],
          responses: {
            "200": {
              description: "Deleted.",
              headers: rateLimitHeaders,
              content: {
                "application/json": {
                  schema: {
                    type: "object",
                    required: ["id", "object", "deleted"],
                    properties: {
                      id: { type: "string" },
                      object: { const: "response" },
                      deleted: { const: true },
                    },
                  },
                },
              },
            },
            ...commonErrors,
            "404": errorResponse("No such response for this key."),
          },
        },
      },
      "/responses/{response_id}/input_items": {
        get: {
          summary: "List the input items a stored response was created from",
          operationId: "listInputItems",
          parameters: [
            responseIdParameter,
            {
              name: "limit",
              in: "query",
              schema: { type: "integer", minimum: 1, maximum: 100, default: 20 },
            },
            { name: "order", in: "query", schema: { enum: ["asc", "desc"], default: "desc" } },
            {
              name: "after",
              in: "query",
              schema: { type: "string" },
              description: "An item id: list the items after it.",
            },
          ],
          responses: {
            "200": {
              description:
                "A cursor list (`data`, `first_id`, `last_id`, `has_more`) of this request's input items.",
              headers: rateLimitHeaders,
              content: {
                "application/json": {
                  schema: {
                    type: "object",
                    required: ["object", "data", "first_id", "last_id", "has_more"],
                    properties: {
                      object: { const: "list" },
                      data: { type: "array", items: { type: "object" } },
                      first_id: { type: ["string", "null"] },
                      last_id: { type: ["string", "null"] },
                      has_more: { type: "boolean" },
                    },
                  },
                },
              },
            },
            ...commonErrors,
            "404": errorResponse("No such response for this key."),
          },
        },
      },
      "/embeddings": {
        post: {
          summary: "Create embeddings (Ollama's /api/embed)",
          operationId: "createEmbedding",
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  required: ["model", "input"],
                  properties: {
                    model: { type: "string" },
                    input: { oneOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] },
                    dimensions: { type: "integer" },
                    encoding_format: { enum: ["float", "base64"] },
                  },
                },
              },
            },
          },
          responses: {
            "200": {
              description: "One embedding per input, with `usage.prompt_tokens` from Ollama.",
              headers: rateLimitHeaders,
              content: { "application/json": { schema: { type: "object" } } },
            },
            ...commonErrors,
          },
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "An API key from /settings/keys." },
      },
      schemas: {
        Error: {
          type: "object",
          required: ["error"],
          properties: {
            error: {
              type: "object",
              required: ["message", "type", "param", "code"],
              properties: {
                message: { type: "string" },
                type: { type: "string" },
                param: { type: ["string", "null"] },
                code: { type: ["string", "null"] },
              },
            },
          },
        },
        Model: {
          type: "object",
          required: ["id", "object", "created", "owned_by"],
          properties: {
            id: { type: "string" },
            object: { const: "model" },
            created: { type: "integer" },
            owned_by: { type: "string" },
          },
        },
        ChatCompletionRequest: {
          type: "object",
          required: ["model", "messages"],
          properties: {
            model: { type: "string" },
            messages: {
              type: "array",
              minItems: 1,
              items: {
                type: "object",
                required: ["role"],
                properties: {
                  role: { enum: ["system", "developer", "user", "assistant", "tool"] },
                  content: {
                    description:
                      "A string, or an array of parts (`text`; `image_url` with a data: URL for user messages).",
                  },
                  tool_calls: { type: "array" },
                  tool_call_id: { type: "string" },
                },
              },
            },
            stream: { type: "boolean" },
            stream_options: { type: "object", properties: { include_usage: { type: "boolean" } } },
            temperature: { type: "number", minimum: 0, maximum: 2 },
            top_p: { type: "number", minimum: 0, maximum: 1 },
            max_tokens: { type: "integer" },
            max_completion_tokens: { type: "integer" },
            stop: { oneOf: [{ type: "string" }, { type: "array", items: { type: "string" }, maxItems: 4 }] },
            seed: { type: "integer" },
            frequency_penalty: { type: "number" },
            presence_penalty: { type: "number" },
            n: { type: "integer", const: 1, description: "Only 1 is supported." },
            response_format: { type: "object", description: "`text`, `json_object` or `json_schema`." },
            tools: { type: "array" },
            tool_choice: {},
            user: { type: "string" },
          },
        },
        ResponseRequest: {
          type: "object",
          required: ["model", "input"],
          properties: {
            model: { type: "string" },
            input: {
              description:
                "A string (one user message) or an array of items: messages (`input_text`, and `input_image` with a data: URL), `function_call`, `function_call_output`, `reasoning`.",
              oneOf: [{ type: "string" }, { type: "array", items: { type: "object" }, minItems: 1 }],
            },
            instructions: {
              type: "string",
              description: "A system message; not carried over by previous_response_id.",
            },
            previous_response_id: {
              type: "string",
              description: "Continue from a stored response of this key.",
            },
            store: { type: "boolean", default: true },
            stream: { type: "boolean" },
            tools: { type: "array", description: "Function tools only.", items: { type: "object" } },
            tool_choice: {
              enum: ["auto", "none"],
              description: "`required` and named functions are refused.",
            },
            text: {
              type: "object",
              properties: {
                format: { type: "object", description: "`text`, `json_object` or `json_schema`." },
              },
            },
            max_output_tokens: { type: "integer", minimum: 1 },
            temperature: { type: "number", minimum: 0, maximum: 2 },
            top_p: { type: "number", minimum: 0, maximum: 1 },
            reasoning: {
              type: "object",
              properties: { effort: { enum: ["none", "minimal", "low", "medium", "high", "xhigh"] } },
            },
            metadata: { type: "object", additionalProperties: { type: "string" } },
          },
        },
        Response: {
          type: "object",
          required: ["id", "object", "created_at", "status", "model", "output", "output_text"],
          properties: {
            id: { type: "string" },
            object: { const: "response" },
            created_at: { type: "integer" },
            status: { enum: ["completed", "incomplete", "failed", "in_progress"] },
            model: { type: "string" },
            output: { type: "array", items: { type: "object" } },
            output_text: { type: "string" },
            previous_response_id: { type: ["string", "null"] },
            usage: {
              type: ["object", "null"],
              properties: {
                input_tokens: { type: "integer" },
                output_tokens: { type: "integer" },
                total_tokens: { type: "integer" },
              },
            },
          },
        },
        ChatCompletion: {
          type: "object",
          required: ["id", "object", "created", "model", "choices", "usage"],
          properties: {
            id: { type: "string" },
            object: { const: "chat.completion" },
            created: { type: "integer" },
            model: { type: "string" },
            choices: { type: "array" },
            usage: {
              type: "object",
              properties: {
                prompt_tokens: { type: "integer" },
                completion_tokens: { type: "integer" },
                total_tokens: { type: "integer" },
              },
            },
          },
        },
      },
    },
  };
}
