package testenv

import (
	"context"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// DeleteRedisKeys removes every key under prefix from the test Redis: the
// clean-up of a test that worked under its own prefix on the shared server.
func DeleteRedisKeys(t testing.TB, prefix string) {
	t.Helper()
	ctx := context.Background()
	o, err := goredis.ParseURL(RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := goredis.NewClient(o)
	defer rdb.Close()
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		if err := rdb.Del(ctx, iter.Val()).Err(); err != nil {
			t.Errorf("delete %s: %v", iter.Val(), err)
		}
	}
	if err := iter.Err(); err != nil {
		t.Errorf("scan %s*: %v", prefix, err)
	}
}
