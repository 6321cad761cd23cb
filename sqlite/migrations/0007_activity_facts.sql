-- The standings projector reads every counting activity of an athlete on
-- each of their events (store.Standings.ActivityFacts). local_date and
-- efforts were added last (0003), after the polyline and the details JSON,
-- so reading them from the table walked each row's large columns, often on
-- overflow pages, and the start-time order needed a sort. This index holds
-- exactly the columns that query reads, in its order: SQLite answers it
-- from the index alone (SQLite only: PostgreSQL keeps large values out of
-- line already).
CREATE INDEX activities_facts ON activities (user_id, start_time, id, parent_id, sport, local_date, visibility, indoor,
    virtual, distance_m, moving_s, elapsed_s, ascent_m, efforts);
