package postgres

import (
	"context"
	"fmt"

	"github.com/stridehq/stride"
)

// UserNames implements store.Users.
func (db *DB) UserNames(ctx context.Context, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT id, name FROM users WHERE status = $1 AND id = ANY($2)`, stride.StatusActive, ids)
	if err != nil {
		return nil, fmt.Errorf("load user names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("scan user name: %w", err)
		}
		out[id] = name
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load user names: %w", err)
	}
	return out, nil
}
