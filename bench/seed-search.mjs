// Seeds a database (already migrated) with users, chats and messages for the search benchmark.
// Everything is generated inside PostgreSQL with generate_series, so a million messages take about
// a minute instead of shipping gigabytes of text through the client.

/**
 * The head of the vocabulary: real words in rough frequency order (chat-about-software flavour).
 * Word rank r is drawn with probability ∝ 1/r (Zipf), so the first few appear in most messages and
 * the generated tail words (ranks past this list, up to VOCABULARY_SIZE) are rare.
 */
const HEAD_WORDS = `the of and to a in is it you that for on with this as be are not can at or have from
your by an if will but all what so we do when one which there more how out up about their them then some
would into other time only new these could like just also any first get make after model data query
server user chat response request index search database page message token stream error function value
file code react router table column type string number list return example version update using need
should because where here want work way well even back see know take good through long same each much
before right still find why thanks different problem help start call change between following both try
run set test case without while might small large default config option result results again own part
postgres streaming streams streamed streamer prompt context memory answer question latency throughput
cache redis session cookie browser client render component loader action schema migration prisma
container docker nginx replica deploy build bundle vite typescript javascript python rust golang
kubernetes cluster node process thread async await promise callback event handler socket websocket
header body json csv markdown export import backup restore password login signup account admin
performance benchmark profile trace metric log warning failure timeout retry limit quota rate
embedding vector similarity ranking relevance snippet highlight tokenizer stemming dictionary language
english german french spanish translation summary summarize explain describe compare recommend
ollama llama mistral gemma qwen phi deepseek temperature sampling context window gpu cpu ram disk`
  .split(/\s+/)
  .filter((word, index, all) => word && all.indexOf(word) === index);

export const VOCABULARY_SIZE = 50_000;
export const HEAD_WORD_COUNT = HEAD_WORDS.length;

/** A rare generated word (rank ~20,000: a few hundred messages) and the word at a given rank. */
export function generatedWord(rank) {
  const syllables = SYLLABLES;
  const n = syllables.length;
  let word = syllables[rank % n] + syllables[Math.floor(rank / n) % n];
  if (rank >= n * n) word += syllables[Math.floor(rank / (n * n)) % n];
  return word;
}

// Forty consonant-vowel syllables: 64,000 distinct pronounceable tail words of 4-6 letters.
const SYLLABLES =
  "ba be bi bo bu da de di do du fa fe fi fo ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no nu ra re ri ro ru".split(
    " ",
  );

/**
 * @param {import("pg").Client} client a connection to the migrated database
 * @param {{ users: number, chats: number, messages: number, measuredShare: number, log?: (line: string) => void }} options
 */
export async function seed(client, { users, chats, messages, measuredShare, log = () => {} }) {
  const t0 = performance.now();
  await client.query(`CREATE TEMP TABLE bench_vocab (r int PRIMARY KEY, w text NOT NULL)`);
  await client.query(
    `INSERT INTO bench_vocab SELECT ord, w FROM unnest($1::text[]) WITH ORDINALITY t(w, ord)`,
    [HEAD_WORDS],
  );
  await client.query(
    `INSERT INTO bench_vocab
     SELECT r, s[1 + r % n] || s[1 + (r / n) % n] || CASE WHEN r >= n * n THEN s[1 + (r / (n * n)) % n] ELSE '' END
     FROM generate_series($1::int, $2::int) r, (SELECT $3::text[] AS s, cardinality($3::text[]) AS n) x`,
    [HEAD_WORDS.length + 1, VOCABULARY_SIZE, SYLLABLES],
  );
  await client.query("ANALYZE bench_vocab");

  // User 1 is the one we measure: they own `measuredShare` of the chats; the rest are spread evenly.
  await client.query(
    `INSERT INTO users (id, email, name, role, updated_at)
     SELECT 'bench-user-' || u, 'bench' || u || '@example.test', 'Bench ' || u, 'USER', now()
     FROM generate_series(1, $1::int) u`,
    [users],
  );
  await client.query(
    `INSERT INTO chats (id, user_id, title, model, created_at, updated_at)
     SELECT 'bench-chat-' || c,
            'bench-user-' || CASE WHEN (hashint4(c) & 2147483647) % 1000 < $3::float * 1000 THEN 1 ELSE 2 + c % ($2::int - 1) END,
            initcap(t.title), 'llama3.2:latest', now() - interval '400 days', now() - interval '400 days'
     FROM generate_series(1, $1::int) c
     CROSS JOIN LATERAL (
       SELECT string_agg(v.w, ' ') AS title
       FROM generate_series(1, 2 + c % 5) pos
       JOIN bench_vocab v ON v.r = 1 + (hashint8(c * 31 + pos) & 2147483647) % 3000
     ) t`,
    [chats, users, measuredShare],
  );
  log(`vocabulary, ${users} users, ${chats} chats: ${Math.round(performance.now() - t0)} ms`);

  // Loading into a table without its GIN index and building the index afterwards is several times
  // faster than maintaining it row by row; the index is recreated exactly as the migration defines it.
  const { rows: indexes } = await client.query(
    `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'messages' AND indexname <> 'messages_pkey'`,
  );
  for (const { indexname } of indexes) await client.query(`DROP INDEX "${indexname}"`);

  const batch = 100_000;
  for (let from = 1; from <= messages; from += batch) {
    const to = Math.min(messages, from + batch - 1);
    const t = performance.now();
    // One row per (message, word position); word ranks are Zipf-distributed (log-uniform draw),
    // then joined to the vocabulary once per batch (a hash join) and glued back into messages.
    await client.query(
      `WITH picks AS (
         SELECT g, pos, floor(exp(random() * ln($3::float)))::int AS r
         FROM generate_series($1::int, $2::int) g
         CROSS JOIN LATERAL generate_series(1, CASE WHEN g % 2 = 1 THEN 4 + g % 21 ELSE 10 + (g * 7) % 71 END) pos
       ),
       bodies AS (
         SELECT g, string_agg(v.w, ' ' ORDER BY pos) AS content
         FROM picks JOIN bench_vocab v USING (r)
         GROUP BY g
       )
       INSERT INTO messages (chat_id, role, content, status, model, prompt_tokens, completion_tokens, created_at)
       SELECT 'bench-chat-' || (1 + floor($4::int * random() ^ 2)::int),
              CASE WHEN g % 2 = 1 THEN 'user' ELSE 'assistant' END::"MessageRole",
              content, 'complete', CASE WHEN g % 2 = 0 THEN 'llama3.2:latest' END,
              CASE WHEN g % 2 = 0 THEN 20 + g % 500 END, CASE WHEN g % 2 = 0 THEN 10 + g % 900 END,
              now() - interval '400 days' + g * interval '30 seconds'
       FROM bodies ORDER BY g`,
      [from, to, VOCABULARY_SIZE, chats],
    );
    log(`messages ${from}-${to}: ${Math.round(performance.now() - t)} ms`);
  }
  const t1 = performance.now();
  for (const { indexdef } of indexes) await client.query(indexdef);
  await client.query(
    `UPDATE chats c SET updated_at = m.last FROM (SELECT chat_id, max(created_at) AS last FROM messages GROUP BY chat_id) m
     WHERE m.chat_id = c.id`,
  );
  await client.query("VACUUM ANALYZE chats");
  await client.query("VACUUM ANALYZE messages");
  log(`indexes, vacuum and analyze: ${Math.round(performance.now() - t1)} ms`);
  log(`seeded in ${Math.round((performance.now() - t0) / 1000)} s`);
}
