-- Grain state for the stock Microsoft.Orleans.Persistence.AdoNet provider
-- (DeliveryGrains:Storage=AdoNet), written by this project from the provider's contract:
--   * it reads three statements from OrleansQuery: ReadFromStorageKey, WriteToStorageKey, ClearStorageKey;
--   * each is sent the named parameters ServiceId, GrainTypeString (the state name), GrainIdN0,
--     GrainIdN1 and GrainIdExtensionString (a string-keyed grain has N0 = N1 = 0 and its key as the
--     extension), GrainIdHash and GrainTypeHash (32-bit hashes of the two), and for writes and clears
--     GrainStateVersion (the ETag the activation holds, NULL before its first write) and PayloadBinary;
--   * a read answers at most one row with the columns PayloadBinary and Version;
--   * a write and a clear answer exactly one row whose first column is the new version, or NULL
--     when the version named is not the stored one (the provider then raises InconsistentStateException).
-- A cleared state keeps its row (payload NULL, version moved on), so the version an activation
-- holds after a clear still guards its next write.

CREATE TABLE IF NOT EXISTS adonet_grain_state
(
    service_id      text        NOT NULL,
    state_name      text        NOT NULL,
    key_n0          bigint      NOT NULL,
    key_n1          bigint      NOT NULL,
    key_text        text        NOT NULL,
    key_hash        integer     NOT NULL,
    state_name_hash integer     NOT NULL,
    version         integer     NOT NULL,
    payload         bytea,
    written_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service_id, state_name, key_text, key_n0, key_n1)
);

CREATE OR REPLACE FUNCTION adonet_state_read(
    p_service text, p_state text, p_n0 bigint, p_n1 bigint, p_key text)
RETURNS TABLE ("PayloadBinary" bytea, "Version" integer)
LANGUAGE sql STABLE AS $fn$
    SELECT s.payload, s.version
    FROM adonet_grain_state s
    WHERE s.service_id = p_service AND s.state_name = p_state
      AND s.key_text = coalesce(p_key, '') AND s.key_n0 = p_n0 AND s.key_n1 = p_n1
$fn$;

CREATE OR REPLACE FUNCTION adonet_state_write(
    p_service text, p_state text, p_n0 bigint, p_n1 bigint, p_key text,
    p_key_hash integer, p_state_hash integer, p_expected integer, p_payload bytea)
RETURNS TABLE ("NewGrainStateVersion" integer)
LANGUAGE plpgsql AS $fn$
DECLARE
    stored integer;
BEGIN
    IF p_expected IS NULL THEN
        -- A first write: only if no activation wrote this state before.
        INSERT INTO adonet_grain_state AS s
            (service_id, state_name, key_n0, key_n1, key_text, key_hash, state_name_hash, version, payload)
        VALUES (p_service, p_state, p_n0, p_n1, coalesce(p_key, ''), p_key_hash, p_state_hash, 1, p_payload)
        ON CONFLICT DO NOTHING
        RETURNING s.version INTO stored;
    ELSE
        UPDATE adonet_grain_state AS s
        SET version = s.version + 1, payload = p_payload, written_at = now()
        WHERE s.service_id = p_service AND s.state_name = p_state
          AND s.key_text = coalesce(p_key, '') AND s.key_n0 = p_n0 AND s.key_n1 = p_n1
          AND s.version = p_expected
        RETURNING s.version INTO stored;
    END IF;
    RETURN QUERY SELECT stored;
END
$fn$;

CREATE OR REPLACE FUNCTION adonet_state_clear(
    p_service text, p_state text, p_n0 bigint, p_n1 bigint, p_key text, p_expected integer)
RETURNS TABLE ("Version" integer)
LANGUAGE plpgsql AS $fn$
DECLARE
    stored integer;
BEGIN
    UPDATE adonet_grain_state AS s
    SET version = s.version + 1, payload = NULL, written_at = now()
    WHERE s.service_id = p_service AND s.state_name = p_state
      AND s.key_text = coalesce(p_key, '') AND s.key_n0 = p_n0 AND s.key_n1 = p_n1
      AND s.version = p_expected
    RETURNING s.version INTO stored;
    RETURN QUERY SELECT stored;
END
$fn$;

DELETE FROM OrleansQuery WHERE QueryKey IN ('ReadFromStorageKey', 'WriteToStorageKey', 'ClearStorageKey');

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('ReadFromStorageKey', $sql$
    SELECT "PayloadBinary", "Version"
    FROM adonet_state_read(@ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, @GrainIdExtensionString)
$sql$),
('WriteToStorageKey', $sql$
    SELECT "NewGrainStateVersion"
    FROM adonet_state_write(@ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, @GrainIdExtensionString,
                            @GrainIdHash, @GrainTypeHash, @GrainStateVersion, @PayloadBinary)
$sql$),
('ClearStorageKey', $sql$
    SELECT "Version"
    FROM adonet_state_clear(@ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1, @GrainIdExtensionString, @GrainStateVersion)
$sql$);
