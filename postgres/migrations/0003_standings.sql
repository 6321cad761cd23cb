-- Achievements, personal records and leaderboards. Activities keep the date
-- they count for and their best efforts in columns of their own, so that the
-- projections read them without decoding details; achievements and records
-- are derived from activities and replaced whole by the projection.
ALTER TABLE activities ADD COLUMN local_date text NOT NULL DEFAULT '';
ALTER TABLE activities ADD COLUMN efforts jsonb NOT NULL DEFAULT '{}';

-- As stride.LocalDate: the date part of the local start when it is a real
-- date, else the UTC date of the start. A cast of an impossible date such
-- as 2026-02-30 raises, hence the function that catches it.
CREATE FUNCTION pg_temp.is_date(s text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    PERFORM s::date;
    RETURN true;
EXCEPTION WHEN others THEN
    RETURN false;
END
$$;
UPDATE activities SET local_date = CASE
    WHEN local_start ~ '^\d{4}-\d{2}-\d{2}' AND pg_temp.is_date(substr(local_start, 1, 10))
        THEN substr(local_start, 1, 10)
    ELSE to_char(start_time AT TIME ZONE 'UTC', 'YYYY-MM-DD')
END;
DROP FUNCTION pg_temp.is_date(text);

-- As activity.Analysis.EffortValues, from the analysis the worker stored in
-- details (activity.Metrics is embedded there, so its fields are top-level).
UPDATE activities a SET efforts = coalesce((
    SELECT jsonb_object_agg(x.name, x.value) FROM (
        SELECT CASE e->>'name'
                   WHEN '400m' THEN 'best_400m' WHEN '1k' THEN 'best_1k' WHEN '1 mile' THEN 'best_1mile'
                   WHEN '5k' THEN 'best_5k' WHEN '10k' THEN 'best_10k'
                   WHEN 'half_marathon' THEN 'best_half_marathon' WHEN 'marathon' THEN 'best_marathon'
               END AS name,
               (e->>'elapsed_s')::double precision AS value
        FROM jsonb_array_elements(CASE WHEN jsonb_typeof(a.details::jsonb->'best_efforts') = 'array'
                                       THEN a.details::jsonb->'best_efforts' ELSE '[]' END) AS e
        UNION ALL
        SELECT CASE p->>'duration_s'
                   WHEN '5' THEN 'power_5s' WHEN '60' THEN 'power_1m' WHEN '300' THEN 'power_5m'
                   WHEN '1200' THEN 'power_20m' WHEN '3600' THEN 'power_60m'
               END,
               (p->>'watts')::double precision
        FROM jsonb_array_elements(CASE WHEN jsonb_typeof(a.details::jsonb->'power'->'best') = 'array'
                                       THEN a.details::jsonb->'power'->'best' ELSE '[]' END) AS p
    ) AS x WHERE x.name IS NOT NULL AND x.value > 0
), '{}')
WHERE a.details::jsonb ?| array['best_efforts', 'power'];

-- Periods and streaks read a user's activities by day.
CREATE INDEX activities_local_date ON activities (user_id, local_date);

-- activity_id is not a foreign key: the sets are recomputed after an
-- activity is deleted, and a delete must not wait for or fail on them.
CREATE TABLE achievements (
    user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type        text NOT NULL,
    activity_id text NOT NULL,
    achieved_at timestamptz NOT NULL,
    value       double precision NOT NULL,
    description text NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, type)
);

CREATE TABLE records (
    user_id              text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    effort               text NOT NULL,
    activity_id          text NOT NULL,
    achieved_at          timestamptz NOT NULL,
    value                double precision NOT NULL,
    previous_value       double precision,
    previous_activity_id text NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, effort, activity_id)
);
