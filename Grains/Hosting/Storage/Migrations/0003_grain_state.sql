-- Grain state for DeliveryGrains' own storage (PostgresGrainStorage): one row per grain and state
-- name, the payload in Orleans' binary serialization, the version is the ETag. A cleared state
-- keeps its row with a NULL payload so its version keeps counting (no ABA after a clear).
-- fillfactor leaves room on each page for HOT updates: most writes rewrite an existing row.

CREATE TABLE IF NOT EXISTS grain_state
(
    service_id text        NOT NULL,
    state_name text        NOT NULL,
    grain_id   text        NOT NULL,
    version    bigint      NOT NULL,
    payload    bytea       NULL,
    written_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service_id, state_name, grain_id)
) WITH (fillfactor = 80);
