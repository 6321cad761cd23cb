package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/stridehq/stride"
)

// maxNamesPerQuery stays under SQLite's bound on host parameters.
const maxNamesPerQuery = 500

// UserNames implements store.Users.
func (db *DB) UserNames(ctx context.Context, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), maxNamesPerQuery)]
		ids = ids[len(chunk):]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, stride.StatusActive)
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := db.read.QueryContext(ctx, `SELECT id, name FROM users WHERE status = ? AND id IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("load user names: %w", err)
		}
		for rows.Next() {
			var id, name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return nil, fmt.Errorf("scan user name: %w", err)
			}
			out[id] = name
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("load user names: %w", err)
		}
	}
	return out, nil
}
