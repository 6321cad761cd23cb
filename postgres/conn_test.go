package postgres

import "testing"

func TestSetsPoolMaxConns(t *testing.T) {
	for _, c := range []struct {
		conn string
		want bool
	}{
		{"postgres://u@localhost/db", false},
		{"postgres://u@localhost/db?pool_max_conns=4", true},
		{"postgresql://u@localhost/db?sslmode=disable&pool_max_conns=32", true},
		{"postgres://u:pool_max_conns@localhost/db", false},
		{"postgres://u@localhost/db?application_name=pool_max_conns", false},
		{"host=localhost dbname=test pool_max_conns=8", true},
		{"host=localhost dbname=test", false},
		{"host=localhost application_name=pool_max_conns_app", false},
	} {
		if got := setsPoolMaxConns(c.conn); got != c.want {
			t.Errorf("setsPoolMaxConns(%q) = %v, want %v", c.conn, got, c.want)
		}
	}
}
