-- Paging through every account (admin lists, leaderboard rebuilds) walks
-- users in (created_at, id) order: without this index each page sorted the
-- whole table.
CREATE INDEX users_created_at_id ON users (created_at, id);
