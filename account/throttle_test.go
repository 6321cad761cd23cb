package account

import (
	"fmt"
	"testing"
	"time"
)

func TestThrottleBacksOffPerPairNotPerAccount(t *testing.T) {
	th := NewThrottle(ThrottleConfig{PairFree: 3, AddressFree: 100, MaxBackoff: time.Minute, Forget: time.Hour, MaxKeys: 1000})
	now := time.Unix(1_700_000_000, 0)
	for i := range 3 {
		if w := th.Wait("v@x", "attacker", now); w != 0 {
			t.Fatalf("attempt %d throttled early: %v", i, w)
		}
		th.Failed("v@x", "attacker", now)
	}
	// 4th failure onwards: 1 s, then 2 s, 4 s ... capped at a minute.
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, time.Minute, time.Minute}
	for i, w := range want {
		if got := th.Wait("v@x", "attacker", now); got != w {
			t.Fatalf("step %d: wait %v, want %v", i, got, w)
		}
		if got := th.Wait("v@x", "victim-home", now); got != 0 {
			t.Fatalf("the victim's own address is throttled: %v", got)
		}
		now = now.Add(w)
		if got := th.Wait("v@x", "attacker", now); got != 0 {
			t.Fatalf("step %d: still waiting %v after the backoff", i, got)
		}
		th.Failed("v@x", "attacker", now)
	}
	th.Succeeded("v@x", "attacker")
	if got := th.Wait("v@x", "attacker", now); got != 0 {
		t.Fatalf("success did not clear the pair: %v", got)
	}
}

func TestThrottleLimitsAnAddressAcrossAccounts(t *testing.T) {
	th := NewThrottle(ThrottleConfig{PairFree: 5, AddressFree: 10, MaxBackoff: time.Hour, Forget: time.Hour, MaxKeys: 1000})
	now := time.Unix(1_700_000_000, 0)
	for i := range 10 {
		th.Failed(fmt.Sprintf("user%d@x", i), "sprayer", now)
	}
	if w := th.Wait("fresh@x", "sprayer", now); w != time.Second {
		t.Fatalf("spraying address wait %v, want 1s", w)
	}
	if w := th.Wait("fresh@x", "other", now); w != 0 {
		t.Fatalf("other address throttled: %v", w)
	}
	// Forgotten after an hour of silence.
	if w := th.Wait("fresh@x", "sprayer", now.Add(time.Hour)); w != 0 {
		t.Fatalf("not forgotten: %v", w)
	}
}

func TestThrottleMemoryIsBounded(t *testing.T) {
	th := NewThrottle(ThrottleConfig{PairFree: 5, AddressFree: 50, MaxBackoff: time.Hour, Forget: time.Hour, MaxKeys: 100})
	now := time.Unix(1_700_000_000, 0)
	for i := range 10_000 {
		th.Failed("v@x", fmt.Sprintf("10.0.%d.%d", i/256, i%256), now.Add(time.Duration(i)*time.Millisecond))
	}
	if n := len(th.keys); n > 100 {
		t.Fatalf("%d keys kept, limit 100", n)
	}
}
