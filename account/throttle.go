package account

import (
	"math"
	"sync"
	"time"
)

// ThrottleConfig bounds failed sign-ins. Counting per account-and-address
// pair (and separately per address) instead of per account means an attacker
// cannot lock a victim out: the victim's own address keeps its own budget.
type ThrottleConfig struct {
	// PairFree and AddressFree are the failures allowed before backoff starts.
	PairFree    int
	AddressFree int
	// MaxBackoff caps the wait; Forget is how long after the last failure a
	// key is forgotten.
	MaxBackoff time.Duration
	Forget     time.Duration
	// MaxKeys bounds memory under a spray of addresses.
	MaxKeys int
}

// DefaultThrottle allows 5 failures per account and address, then waits 1 s,
// 2 s, 4 s ... up to 15 minutes; an address alone gets 50 failures across all
// accounts before the same backoff.
var DefaultThrottle = ThrottleConfig{PairFree: 5, AddressFree: 50, MaxBackoff: 15 * time.Minute, Forget: time.Hour, MaxKeys: 100_000}

// Throttle tracks failed sign-ins in memory. Each API node keeps its own
// counts, so behind N nodes an attacker gets at most N times the budget,
// which still turns a brute-force attack from hours into centuries.
type Throttle struct {
	cfg  ThrottleConfig
	mu   sync.Mutex
	keys map[string]*failures
}

type failures struct {
	count int
	last  time.Time
}

// NewThrottle returns an empty throttle.
func NewThrottle(cfg ThrottleConfig) *Throttle {
	return &Throttle{cfg: cfg, keys: make(map[string]*failures)}
}

// Wait returns how long the pair must wait before another attempt; zero
// means go ahead.
func (t *Throttle) Wait(email, addr string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return max(t.waitLocked(pairKey(email, addr), t.cfg.PairFree, now), t.waitLocked(addrKey(addr), t.cfg.AddressFree, now))
}

func (t *Throttle) waitLocked(key string, free int, now time.Time) time.Duration {
	f := t.keys[key]
	if f == nil || f.count < free {
		return 0
	}
	if now.Sub(f.last) >= t.cfg.Forget {
		delete(t.keys, key)
		return 0
	}
	backoff := t.cfg.MaxBackoff
	if exp := f.count - free; exp < 31 {
		backoff = min(time.Duration(math.Pow(2, float64(exp)))*time.Second, t.cfg.MaxBackoff)
	}
	return max(0, f.last.Add(backoff).Sub(now))
}

// Failed records a failed attempt.
func (t *Throttle) Failed(email, addr string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.keys) >= t.cfg.MaxKeys {
		t.evictLocked(now)
	}
	for _, k := range []string{pairKey(email, addr), addrKey(addr)} {
		f := t.keys[k]
		if f == nil {
			f = &failures{}
			t.keys[k] = f
		}
		f.count++
		f.last = now
	}
}

// Succeeded clears the pair's failures; the address keeps its count so one
// valid account cannot be used to reset a spray against the others.
func (t *Throttle) Succeeded(email, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, pairKey(email, addr))
}

// evictLocked drops forgotten keys, and if that is not enough, the older half.
func (t *Throttle) evictLocked(now time.Time) {
	for k, f := range t.keys {
		if now.Sub(f.last) >= t.cfg.Forget {
			delete(t.keys, k)
		}
	}
	if len(t.keys) < t.cfg.MaxKeys {
		return
	}
	var oldest time.Time
	for _, f := range t.keys {
		if oldest.IsZero() || f.last.Before(oldest) {
			oldest = f.last
		}
	}
	cut := oldest.Add(now.Sub(oldest) / 2)
	for k, f := range t.keys {
		if !f.last.After(cut) {
			delete(t.keys, k)
		}
	}
}

func pairKey(email, addr string) string { return "p\x00" + email + "\x00" + addr }
func addrKey(addr string) string        { return "a\x00" + addr }
