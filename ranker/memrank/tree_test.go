package memrank

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestTreeAgainstSortedSlice drives the B+ tree through growth, heavy
// deletion (borrowing and merging at every level) and regrowth, comparing
// it with a sorted slice and checking its invariants along the way.
func TestTreeAgainstSortedSlice(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	var tr tree
	var ref []item
	// Ids are handed out and never taken back, as in a board between
	// compactions.
	ms := newMembers(0)
	m := &ms
	cmp := func(a, b item) int {
		switch {
		case m.less(a, b):
			return -1
		case m.less(b, a):
			return 1
		}
		return 0
	}
	present := map[string]uint32{}
	for round, target := range []int{9_000, 200, 6_000, 0, 3_000} {
		for len(present) != target {
			if len(present) < target && (rng.IntN(4) > 0 || len(present) == 0) {
				name := fmt.Sprintf("m%06d", rng.IntN(1_000_000))
				if _, ok := present[name]; ok {
					continue
				}
				score := float64(rng.IntN(500))
				it := item{score, m.add(name, score)}
				present[name] = it.id
				tr.insert(m, it)
				i, _ := slices.BinarySearchFunc(ref, it, cmp)
				ref = slices.Insert(ref, i, it)
			} else {
				it := ref[rng.IntN(len(ref))]
				tr.delete(m, it)
				_, slot, _ := m.find(string(m.name(it.id)))
				m.remove(slot)
				delete(present, string(m.name(it.id)))
				i, _ := slices.BinarySearchFunc(ref, it, cmp)
				ref = slices.Delete(ref, i, i+1)
			}
			if rng.IntN(3000) == 0 {
				check(t, m, &tr, ref)
			}
		}
		check(t, m, &tr, ref)
		t.Logf("round %d: %d items", round, len(ref))
	}
	// The bulk builder gives the same tree contents and stays editable.
	tr = build(slices.Clone(ref))
	check(t, m, &tr, ref)
	for _, it := range slices.Clone(ref[:2000]) {
		tr.delete(m, it)
	}
	check(t, m, &tr, ref[2000:])
	// The table agrees with the members left.
	if m.live != len(present) {
		t.Fatalf("%d live members, want %d", m.live, len(present))
	}
	for name, id := range present {
		if got, _, ok := m.find(name); !ok || got != id {
			t.Fatalf("find %s = %d, %v; want %d", name, got, ok, id)
		}
	}
	for i := range 1000 {
		if _, _, ok := m.find(fmt.Sprintf("x%d", i)); ok {
			t.Fatalf("found a member never added")
		}
	}
}

func check(t *testing.T, m *members, tr *tree, ref []item) {
	t.Helper()
	if tr.n != len(ref) {
		t.Fatalf("size %d, want %d", tr.n, len(ref))
	}
	if got := tr.appendRange(nil, 0, len(ref)); !slices.Equal(got, ref) && len(ref) > 0 {
		t.Fatalf("contents differ from the sorted slice")
	}
	for i := 0; i < len(ref); i += 1 + len(ref)/500 {
		if r := tr.rank(m, ref[i]); r != i {
			t.Fatalf("rank of %v = %d, want %d", ref[i], r, i)
		}
	}
	if tr.root != nil {
		checkNode(t, m, tr.root, true)
	}
}

// checkNode verifies counts, key bounds and occupancy; it returns the
// node's size.
func checkNode(t *testing.T, m *members, n *node, root bool) int {
	t.Helper()
	if !root && n.len() < minItems {
		t.Fatalf("node with %d entries, below %d", n.len(), minItems)
	}
	if n.len() > maxItems {
		t.Fatalf("node with %d entries, above %d", n.len(), maxItems)
	}
	if n.isLeaf() {
		return len(n.items)
	}
	total := 0
	for i, k := range n.kids {
		s := checkNode(t, m, k, false)
		if s != n.counts[i] {
			t.Fatalf("count %d, child holds %d", n.counts[i], s)
		}
		total += s
		if i > 0 {
			first := k
			for !first.isLeaf() {
				first = first.kids[0]
			}
			if m.less(first.items[0], n.keys[i]) {
				t.Fatalf("key %v above the child's first item %v", n.keys[i], first.items[0])
			}
		}
	}
	return total
}
