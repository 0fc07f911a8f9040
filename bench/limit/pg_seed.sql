-- The data of bench/limit/pg_server.cpp: examples/blog/slipway.yaml's tables in the shape slipway's PostgreSQL
-- dialect gives them (src/storage/sql/dialect.cpp, schema_sql.cpp: system columns, column types, index names),
-- with the posts bench/http/run.py seeds: "post i", body "seed", views i, every other one published, status at
-- its default. Ids are UUIDv7 text (48-bit milliseconds of `created`, version 7, random bits), one post per second
-- up to now, so ids and `created` sort alike as slipway's do. Drops and recreates both tables: run it before each
-- benchmark run (creates add rows).
--
--   psql -X -q -v ON_ERROR_STOP=1 [-v rows=10000] -f bench/limit/pg_seed.sql postgres://slipway@127.0.0.1:PORT/DB
\if :{?rows}
\else
  \set rows 10000
\endif

SET client_min_messages = warning;
DROP TABLE IF EXISTS "posts", "authors";

CREATE TABLE "authors" ("id" text PRIMARY KEY NOT NULL, "created" timestamptz NOT NULL,
  "updated" timestamptz NOT NULL, "version" bigint NOT NULL, "name" text, "email" text);
CREATE UNIQUE INDEX "authors__unique__email" ON "authors" ("email");

CREATE TABLE "posts" ("id" text PRIMARY KEY NOT NULL, "created" timestamptz NOT NULL,
  "updated" timestamptz NOT NULL, "version" bigint NOT NULL, "title" text, "body" text, "views" bigint,
  "published" boolean, "author" text REFERENCES "authors"("id") ON DELETE CASCADE, "tags" jsonb, "status" text);
CREATE INDEX "posts__rel__author" ON "posts" ("author");
CREATE INDEX "posts__idx__published__created" ON "posts" ("published", "created", "id");

INSERT INTO "posts"
SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
                                      PLACING substring(int8send((extract(epoch FROM t) * 1000)::bigint) FROM 3)
                                      FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid::text,
       t, t, 1, 'post ' || i, 'seed', i, i % 2 = 0, NULL, NULL, 'draft'
FROM generate_series(0, :rows - 1) AS i,
     LATERAL (SELECT date_trunc('milliseconds', now()) - (:rows - i) * interval '1 second' AS t) AS s;

-- Visibility map, hint bits and statistics now, so that the first benchmark does not pay for them.
VACUUM ANALYZE "authors", "posts";

-- Write the seed's pages now, not during the first measured run.
CHECKPOINT;
