-- Cluster membership for Microsoft.Orleans.Clustering.AdoNet (invariant "Npgsql").
-- The provider reads its statements from OrleansQuery (QueryKey, QueryText) at start; every
-- statement below answers the provider's contract: parameters @Name, result columns named as the
-- provider reads them (matched case-insensitively), one boolean column where it expects a verdict.
-- Membership writes are guarded by the cluster's table version (the provider's etag).

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) PRIMARY KEY,
    QueryText text        NOT NULL
);

CREATE TABLE IF NOT EXISTS cluster_version
(
    cluster_id text        PRIMARY KEY,
    version    integer     NOT NULL DEFAULT 0,
    changed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS cluster_member
(
    cluster_id      text        NOT NULL REFERENCES cluster_version (cluster_id) ON DELETE CASCADE,
    address         text        NOT NULL,
    port            integer     NOT NULL,
    generation      integer     NOT NULL,
    silo_name       text        NOT NULL,
    host_name       text        NOT NULL,
    status          integer     NOT NULL,
    proxy_port      integer     NOT NULL DEFAULT 0,
    suspect_times   text        NULL,
    start_time      timestamptz NOT NULL,
    i_am_alive_time timestamptz NOT NULL,
    PRIMARY KEY (cluster_id, address, port, generation)
);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
('InsertMembershipVersionKey', $sql$
    WITH created AS (
        INSERT INTO cluster_version (cluster_id) VALUES (@DeploymentId)
        ON CONFLICT (cluster_id) DO NOTHING
        RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM created)
$sql$),
('MembershipReadAllKey', $sql$
    SELECT v.version AS Version,
           m.address AS Address, m.port AS Port, m.generation AS Generation,
           m.silo_name AS SiloName, m.host_name AS HostName, m.status AS Status,
           m.proxy_port AS ProxyPort, m.suspect_times AS SuspectTimes,
           m.start_time AS StartTime, m.i_am_alive_time AS IAmAliveTime
    FROM cluster_version v
    LEFT JOIN cluster_member m ON m.cluster_id = v.cluster_id
    WHERE v.cluster_id = @DeploymentId
$sql$),
('MembershipReadRowKey', $sql$
    SELECT v.version AS Version,
           m.address AS Address, m.port AS Port, m.generation AS Generation,
           m.silo_name AS SiloName, m.host_name AS HostName, m.status AS Status,
           m.proxy_port AS ProxyPort, m.suspect_times AS SuspectTimes,
           m.start_time AS StartTime, m.i_am_alive_time AS IAmAliveTime
    FROM cluster_version v
    LEFT JOIN cluster_member m
           ON m.cluster_id = v.cluster_id
          AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
    WHERE v.cluster_id = @DeploymentId
$sql$),
-- The version row is bumped first: its row lock orders concurrent writers, and a writer whose
-- etag is stale matches nothing, so its member row is not written either.
('InsertMembershipKey', $sql$
    WITH bumped AS (
        UPDATE cluster_version SET version = version + 1, changed_at = now()
        WHERE cluster_id = @DeploymentId AND version = @Version
        RETURNING cluster_id),
    added AS (
        INSERT INTO cluster_member (cluster_id, address, port, generation, silo_name, host_name, status,
                                    proxy_port, start_time, i_am_alive_time)
        SELECT cluster_id, @Address, @Port, @Generation, @SiloName, @HostName, @Status,
               @ProxyPort, @StartTime, @IAmAliveTime
        FROM bumped
        ON CONFLICT DO NOTHING
        RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM added)
$sql$),
('UpdateMembershipKey', $sql$
    WITH bumped AS (
        UPDATE cluster_version SET version = version + 1, changed_at = now()
        WHERE cluster_id = @DeploymentId AND version = @Version
        RETURNING cluster_id),
    changed AS (
        UPDATE cluster_member m
        SET status = @Status, suspect_times = @SuspectTimes, i_am_alive_time = @IAmAliveTime
        FROM bumped
        WHERE m.cluster_id = bumped.cluster_id
          AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
        RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM changed)
$sql$),
('UpdateIAmAlivetimeKey', $sql$
    UPDATE cluster_member SET i_am_alive_time = @IAmAliveTime
    WHERE cluster_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation
$sql$),
('DeleteMembershipTableEntriesKey', $sql$
    DELETE FROM cluster_version WHERE cluster_id = @DeploymentId
$sql$),
('GatewaysQueryKey', $sql$
    SELECT address AS Address, proxy_port AS ProxyPort, generation AS Generation
    FROM cluster_member
    WHERE cluster_id = @DeploymentId AND status = @Status AND proxy_port > 0
$sql$),
-- Status 6 is SiloStatus.Dead.
('CleanupDefunctSiloEntriesKey', $sql$
    DELETE FROM cluster_member
    WHERE cluster_id = @DeploymentId AND status = 6 AND i_am_alive_time < @IAmAliveTime
$sql$),
('CleanupDefunctSiloEntryKey', $sql$
    DELETE FROM cluster_member
    WHERE cluster_id = @DeploymentId
      AND address = @Address AND port = @Port AND generation = @Generation
      AND status = 6
      AND start_time = @StartTime AND i_am_alive_time = @IAmAliveTime
      AND suspect_times IS NOT DISTINCT FROM @SuspectTimes
$sql$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
