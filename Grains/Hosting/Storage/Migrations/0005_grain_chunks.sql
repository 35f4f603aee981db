-- Chunked grain state (PostgresGrainStorage with an IChunkedState, a delivery partition's progress):
-- the grain_state row keeps the version (the ETag) and a small head in payload, and says in chunks
-- how many grain_chunk rows make the rest; a write stores the head and only the chunks it changed in
-- one statement. chunks NULL is a whole value, which is also how every row written before this
-- migration reads: such a row turns into head + chunks at its grain's next write, nothing to convert.

ALTER TABLE grain_state ADD COLUMN IF NOT EXISTS chunks integer NULL;

CREATE TABLE IF NOT EXISTS grain_chunk
(
    service_id text    NOT NULL,
    state_name text    NOT NULL,
    grain_id   text    NOT NULL,
    chunk      integer NOT NULL,
    payload    bytea   NOT NULL,
    PRIMARY KEY (service_id, state_name, grain_id, chunk)
) WITH (fillfactor = 80);
