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
// With 3 distinct scores, runs of equal scores span many leaves and inner
// keys, where the order is the members' names.
func TestTreeAgainstSortedSlice(t *testing.T) {
	for _, scores := range []int{500, 3} {
		t.Run(fmt.Sprintf("scores=%d", scores), func(t *testing.T) { testTreeAgainstSortedSlice(t, scores) })
	}
}

func testTreeAgainstSortedSlice(t *testing.T, scores int) {
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
	rekeys := 0
	for round, target := range []int{20, 0, 9_000, 200, 6_000, 0, 3_000} {
		for len(present) != target {
			if len(present) < target && (rng.IntN(4) > 0 || len(present) == 0) {
				// Past 7,000 members, names without the "m" every name
				// had so far: the shared prefix shortens under a tree
				// of three levels, and every key is recomputed.
				// A third of the names have the same eight bytes after
				// the shared prefix: equal sort keys, ordered by name.
				name := fmt.Sprintf("m%06d", rng.IntN(1_000_000))
				if rng.IntN(3) == 0 {
					name = fmt.Sprintf("mlongname-%06d", rng.IntN(1_000_000))
				}
				if len(present) > 7_000 && rng.IntN(2) == 0 {
					name = fmt.Sprintf("%07d", rng.IntN(1_000_000))
				}
				if _, ok := present[name]; ok {
					continue
				}
				score := float64(rng.IntN(scores))
				id, rekey := m.add(name, score)
				if rekey {
					tr.rekey(m)
					for i := range ref {
						ref[i].key = m.idKey(ref[i].id)
					}
					rekeys++
				}
				it := item{score, m.sortKey(name), id}
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
			if rng.IntN(3000) == 0 || len(ref) <= 2*tinyMax {
				check(t, m, &tr, ref)
			}
		}
		check(t, m, &tr, ref)
		t.Logf("round %d: %d items", round, len(ref))
	}
	if len(m.common) != 0 || rekeys < 2 {
		t.Fatalf("shared prefix %q after %d rekeys: the names never shortened it to nothing", m.common, rekeys)
	}
	// The bulk builder gives the same tree contents and stays editable, a
	// small tree included.
	small := build(slices.Clone(ref[:tinyMax]))
	check(t, m, &small, ref[:tinyMax])
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
		if got := tr.appendRange(nil, i, i+3); !slices.Equal(got, ref[i:min(i+3, len(ref))]) {
			t.Fatalf("items from %d = %v, want %v", i, got, ref[i:min(i+3, len(ref))])
		}
		// Walking back from an item along the leaves.
		_, l, j := tr.where(m, ref[i])
		for _, k := range []int{0, 1, 5, leafMax, 3 * leafMax, i} {
			if k > i || l == nil {
				continue
			}
			if bl, bj := tr.back(l, j, k); bl.item(bj) != ref[i-k] {
				t.Fatalf("%d back from %d: %v, want %v", k, i, bl.item(bj), ref[i-k])
			}
		}
	}
	if tr.isTiny() {
		if !slices.Equal(tr.tiny, ref) || len(ref) > tinyMax {
			t.Fatalf("tiny tree of %d items differs from the sorted slice", len(tr.tiny))
		}
		return
	}
	var leaves []uint32
	checkNode(t, m, tr, tr.root, tr.height, true, &leaves)
	// The leaf list links the leaves in order, both ways.
	prev := none
	for i, ref := range leaves {
		l := tr.leaves.at(ref)
		if l.prev != prev {
			t.Fatalf("leaf %d: prev %d, want %d", i, l.prev, prev)
		}
		want := none
		if i+1 < len(leaves) {
			want = leaves[i+1]
		}
		if l.next != want {
			t.Fatalf("leaf %d: next %d, want %d", i, l.next, want)
		}
		prev = ref
	}
}

// checkNode verifies counts, key bounds and occupancy, and gathers the
// leaves in order; it returns the node's size.
func checkNode(t *testing.T, m *members, tr *tree, ref uint32, h int, root bool, leaves *[]uint32) int {
	t.Helper()
	least, most := innerMin, innerMax
	if h == 0 {
		least, most = leafMin, leafMax
	}
	if n := tr.nodeLen(ref, h); (!root && n < least) || n > most {
		t.Fatalf("node with %d entries, outside [%d, %d]", n, least, most)
	}
	if h == 0 {
		*leaves = append(*leaves, ref)
		return int(tr.leaves.at(ref).n)
	}
	in := tr.inners.at(ref)
	for i := 1; i < int(in.n); i++ {
		if in.keys[i] != m.idKey(in.ids[i]) {
			t.Fatalf("routing key %d holds sort key %x, the member's is %x", i, in.keys[i], m.idKey(in.ids[i]))
		}
	}
	total := 0
	for i, k := range in.kids[:in.n] {
		s := checkNode(t, m, tr, k, h-1, false, leaves)
		if s != int(in.counts[i]) {
			t.Fatalf("count %d, child holds %d", in.counts[i], s)
		}
		total += s
		if i > 0 {
			first := k
			for fh := h - 1; fh > 0; fh-- {
				first = tr.inners.at(first).kids[0]
			}
			if it := tr.leaves.at(first).item(0); m.less(it, in.key(i)) {
				t.Fatalf("key %v above the child's first item %v", in.key(i), it)
			}
		}
	}
	return total
}
