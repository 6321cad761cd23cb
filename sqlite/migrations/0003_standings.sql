-- Achievements, personal records and leaderboards. Activities keep the date
-- they count for and their best efforts in columns of their own, so that the
-- projections read them without decoding details; achievements and records
-- are derived from activities and replaced whole by the projection.
ALTER TABLE activities ADD COLUMN local_date TEXT NOT NULL DEFAULT '';
ALTER TABLE activities ADD COLUMN efforts TEXT NOT NULL DEFAULT '{}';

-- As stride.LocalDate: the date part of the local start when it is a real
-- date (date() normalizes an impossible one, so it then differs), else the
-- UTC date of the start.
UPDATE activities SET local_date = CASE
    WHEN length(local_start) >= 10 AND date(substr(local_start, 1, 10)) IS substr(local_start, 1, 10)
        THEN substr(local_start, 1, 10)
    ELSE strftime('%Y-%m-%d', start_time / 1000000, 'unixepoch')
END;

-- As activity.Analysis.EffortValues, from the analysis the worker stored in
-- details (activity.Metrics is embedded there, so its fields are top-level).
UPDATE activities SET efforts = coalesce((
    SELECT json_group_object(name, value) FROM (
        SELECT CASE json_extract(e.value, '$.name')
                   WHEN '400m' THEN 'best_400m' WHEN '1k' THEN 'best_1k' WHEN '1 mile' THEN 'best_1mile'
                   WHEN '5k' THEN 'best_5k' WHEN '10k' THEN 'best_10k'
                   WHEN 'half_marathon' THEN 'best_half_marathon' WHEN 'marathon' THEN 'best_marathon'
               END AS name,
               json_extract(e.value, '$.elapsed_s') AS value
        FROM json_each(activities.details, '$.best_efforts') AS e
        UNION ALL
        SELECT CASE json_extract(p.value, '$.duration_s')
                   WHEN 5 THEN 'power_5s' WHEN 60 THEN 'power_1m' WHEN 300 THEN 'power_5m'
                   WHEN 1200 THEN 'power_20m' WHEN 3600 THEN 'power_60m'
               END,
               json_extract(p.value, '$.watts')
        FROM json_each(activities.details, '$.power.best') AS p
    ) WHERE name IS NOT NULL AND value > 0
), '{}')
WHERE json_valid(details) AND (json_type(details, '$.best_efforts') = 'array' OR json_type(details, '$.power.best') = 'array');

-- Periods and streaks read a user's activities by day.
CREATE INDEX activities_local_date ON activities (user_id, local_date);

-- activity_id is not a foreign key: the sets are recomputed after an
-- activity is deleted, and a delete must not wait for or fail on them.
CREATE TABLE achievements (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type        TEXT NOT NULL,
    activity_id TEXT NOT NULL,
    achieved_at INTEGER NOT NULL,
    value       REAL NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, type)
) STRICT, WITHOUT ROWID;

CREATE TABLE records (
    user_id              TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    effort               TEXT NOT NULL,
    activity_id          TEXT NOT NULL,
    achieved_at          INTEGER NOT NULL,
    value                REAL NOT NULL,
    previous_value       REAL,
    previous_activity_id TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, effort, activity_id)
) STRICT, WITHOUT ROWID;
