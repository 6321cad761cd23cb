package memrank

// The board's order is kept in a B+ tree whose inner nodes count the items
// under each child, so that the position of an item (its rank) and the item
// at a position are found in one descent: O(log n) with a wide fan-out,
// which keeps the tree four levels deep at a million members and its nodes
// contiguous in memory (a skip list or a binary tree would chase a pointer
// per level, twenty-odd cache misses per operation).

const (
	maxItems = 64           // per leaf, and children per inner node
	minItems = maxItems / 2 // below this a node borrows or merges
)

// item is one member in the tree's order (see members.less). It holds no
// pointer, so the collector never looks inside the tree's leaves.
type item struct {
	score float64
	id    uint32
}

// node is a leaf (kids == nil) holding items, or an inner node holding
// children. keys[i] is a lower bound of every item under kids[i] and above
// every item under kids[i-1]; keys[0] is not used for routing. Bounds may go
// stale (below the child's first item) after deletions; they stay valid.
type node struct {
	items  []item
	kids   []*node
	keys   []item
	counts []int // counts[i] is the number of items under kids[i]
}

func (n *node) isLeaf() bool { return n.kids == nil }

func (n *node) len() int {
	if n.isLeaf() {
		return len(n.items)
	}
	return len(n.kids)
}

func (n *node) size() int {
	if n.isLeaf() {
		return len(n.items)
	}
	s := 0
	for _, c := range n.counts {
		s += c
	}
	return s
}

// route returns the child of inner node n whose range holds it. The
// binary searches are written out: sort.Search's closure costs an indirect
// call per probe, on the hottest path of every operation.
func (n *node) route(m *members, it item) int {
	// The first key above it, minus one; keys[0] is skipped.
	lo, hi := 1, len(n.keys)
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if m.less(it, n.keys[h]) {
			hi = h
		} else {
			lo = h + 1
		}
	}
	return lo - 1
}

// pos returns the index of the first item of leaf n not before it.
func (n *node) pos(m *members, it item) int {
	lo, hi := 0, len(n.items)
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if m.less(n.items[h], it) {
			lo = h + 1
		} else {
			hi = h
		}
	}
	return lo
}

type tree struct {
	root *node
	n    int
}

// insert adds it, which must not be in the tree.
func (t *tree) insert(m *members, it item) {
	if t.root == nil {
		t.root = &node{items: make([]item, 0, 8)}
	}
	if right, key := insertInto(m, t.root, it); right != nil {
		left := t.root
		t.root = &node{
			kids:   []*node{left, right},
			keys:   []item{{}, key},
			counts: []int{left.size(), right.size()},
		}
	}
	t.n++
}

// insertInto adds it under n; if n overflows, it splits and returns the new
// right sibling and the lower bound of its items.
func insertInto(m *members, n *node, it item) (*node, item) {
	if n.isLeaf() {
		p := n.pos(m, it)
		n.items = append(n.items, item{})
		copy(n.items[p+1:], n.items[p:])
		n.items[p] = it
		if len(n.items) <= maxItems {
			return nil, item{}
		}
		mid := len(n.items) / 2
		right := &node{items: make([]item, len(n.items)-mid, maxItems+1)}
		copy(right.items, n.items[mid:])
		n.items = n.items[:mid]
		return right, right.items[0]
	}
	i := n.route(m, it)
	n.counts[i]++
	right, key := insertInto(m, n.kids[i], it)
	if right == nil {
		return nil, item{}
	}
	n.counts[i] -= right.size()
	n.kids = insertAt(n.kids, i+1, right)
	n.keys = insertAt(n.keys, i+1, key)
	n.counts = insertAt(n.counts, i+1, right.size())
	if len(n.kids) <= maxItems {
		return nil, item{}
	}
	mid := len(n.kids) / 2
	sib := &node{
		kids:   append(make([]*node, 0, maxItems+1), n.kids[mid:]...),
		keys:   append(make([]item, 0, maxItems+1), n.keys[mid:]...),
		counts: append(make([]int, 0, maxItems+1), n.counts[mid:]...),
	}
	clear(n.kids[mid:])
	n.kids, n.keys, n.counts = n.kids[:mid], n.keys[:mid], n.counts[:mid]
	return sib, sib.keys[0]
}

func insertAt[T any](s []T, i int, v T) []T {
	var zero T
	s = append(s, zero)
	copy(s[i+1:], s[i:])
	s[i] = v
	return s
}

func removeAt[T any](s []T, i int) []T {
	copy(s[i:], s[i+1:])
	var zero T
	s[len(s)-1] = zero
	return s[:len(s)-1]
}

// delete removes it, which must be in the tree.
func (t *tree) delete(m *members, it item) {
	if t.root == nil || !deleteFrom(m, t.root, it) {
		return
	}
	t.n--
	if !t.root.isLeaf() && len(t.root.kids) == 1 {
		t.root = t.root.kids[0]
	}
	if t.n == 0 {
		t.root = nil
	}
}

func deleteFrom(m *members, n *node, it item) bool {
	if n.isLeaf() {
		p := n.pos(m, it)
		if p == len(n.items) || n.items[p] != it {
			return false
		}
		n.items = removeAt(n.items, p)
		return true
	}
	i := n.route(m, it)
	if !deleteFrom(m, n.kids[i], it) {
		return false
	}
	n.counts[i]--
	if n.kids[i].len() < minItems {
		rebalance(n, i)
	}
	return true
}

// rebalance refills the underflowing child i of n from a sibling, or
// merges it with one.
func rebalance(n *node, i int) {
	kid := n.kids[i]
	switch {
	case i > 0 && n.kids[i-1].len() > minItems:
		left := n.kids[i-1]
		last := left.len() - 1
		if kid.isLeaf() {
			x := left.items[last]
			left.items = removeAt(left.items, last)
			kid.items = insertAt(kid.items, 0, x)
			n.keys[i] = x
			n.counts[i-1]--
			n.counts[i]++
			return
		}
		c, k, cc := left.kids[last], left.keys[last], left.counts[last]
		left.kids, left.keys, left.counts = removeAt(left.kids, last), removeAt(left.keys, last), removeAt(left.counts, last)
		// The child's old first subtree now needs a real bound: the
		// parent's bound for the whole child is one.
		kid.keys[0] = n.keys[i]
		kid.kids, kid.keys, kid.counts = insertAt(kid.kids, 0, c), insertAt(kid.keys, 0, item{}), insertAt(kid.counts, 0, cc)
		n.keys[i] = k
		n.counts[i-1] -= cc
		n.counts[i] += cc
	case i+1 < len(n.kids) && n.kids[i+1].len() > minItems:
		right := n.kids[i+1]
		if kid.isLeaf() {
			x := right.items[0]
			right.items = removeAt(right.items, 0)
			kid.items = append(kid.items, x)
			n.keys[i+1] = right.items[0]
			n.counts[i+1]--
			n.counts[i]++
			return
		}
		c, cc := right.kids[0], right.counts[0]
		kid.kids, kid.keys, kid.counts = append(kid.kids, c), append(kid.keys, n.keys[i+1]), append(kid.counts, cc)
		n.keys[i+1] = right.keys[1]
		right.kids, right.keys, right.counts = removeAt(right.kids, 0), removeAt(right.keys, 0), removeAt(right.counts, 0)
		n.counts[i+1] -= cc
		n.counts[i] += cc
	case i > 0:
		merge(n, i-1)
	case i+1 < len(n.kids):
		merge(n, i)
	}
}

// merge moves child j+1 of n into child j and drops it.
func merge(n *node, j int) {
	left, right := n.kids[j], n.kids[j+1]
	if left.isLeaf() {
		left.items = append(left.items, right.items...)
	} else {
		right.keys[0] = n.keys[j+1]
		left.kids = append(left.kids, right.kids...)
		left.keys = append(left.keys, right.keys...)
		left.counts = append(left.counts, right.counts...)
	}
	n.counts[j] += n.counts[j+1]
	n.kids, n.keys, n.counts = removeAt(n.kids, j+1), removeAt(n.keys, j+1), removeAt(n.counts, j+1)
}

// rank returns the 0-based position of it, which must be in the tree.
func (t *tree) rank(m *members, it item) int {
	r := 0
	n := t.root
	for n != nil && !n.isLeaf() {
		i := n.route(m, it)
		for _, c := range n.counts[:i] {
			r += c
		}
		n = n.kids[i]
	}
	if n == nil {
		return 0
	}
	return r + n.pos(m, it)
}

// appendRange appends the items at positions [lo, hi) to out.
func (t *tree) appendRange(out []item, lo, hi int) []item {
	hi = min(hi, t.n)
	if t.root == nil || lo >= hi {
		return out
	}
	return appendRange(t.root, out, lo, hi)
}

func appendRange(n *node, out []item, lo, hi int) []item {
	if n.isLeaf() {
		return append(out, n.items[lo:hi]...)
	}
	for i, c := range n.counts {
		if lo < c && hi > 0 {
			out = appendRange(n.kids[i], out, max(lo, 0), min(hi, c))
		}
		lo -= c
		hi -= c
		if hi <= 0 {
			break
		}
	}
	return out
}

// build returns a tree of items, which must be sorted by members.less and
// distinct, in O(n): the rebuild path, far cheaper than n inserts.
func build(items []item) tree {
	if len(items) == 0 {
		return tree{}
	}
	level := make([]*node, 0, len(items)/maxItems+1)
	for _, g := range groups(len(items)) {
		leaf := &node{items: make([]item, g[1]-g[0], maxItems+1)}
		copy(leaf.items, items[g[0]:g[1]])
		level = append(level, leaf)
	}
	first := func(n *node) item {
		for !n.isLeaf() {
			n = n.kids[0]
		}
		return n.items[0]
	}
	for len(level) > 1 {
		next := make([]*node, 0, len(level)/maxItems+1)
		for _, g := range groups(len(level)) {
			in := &node{
				kids:   make([]*node, 0, maxItems+1),
				keys:   make([]item, 0, maxItems+1),
				counts: make([]int, 0, maxItems+1),
			}
			for _, k := range level[g[0]:g[1]] {
				in.kids = append(in.kids, k)
				in.keys = append(in.keys, first(k))
				in.counts = append(in.counts, k.size())
			}
			next = append(next, in)
		}
		level = next
	}
	return tree{root: level[0], n: len(items)}
}

// groups splits n into the fewest runs of at most maxItems, of even sizes,
// so that every run but a lone one holds at least minItems.
func groups(n int) [][2]int {
	k := (n + maxItems - 1) / maxItems
	out := make([][2]int, 0, k)
	start := 0
	for i := range k {
		end := n * (i + 1) / k
		out = append(out, [2]int{start, end})
		start = end
	}
	return out
}

// each calls f on the items at positions [lo, hi), in order, without
// gathering them first.
func (t *tree) each(lo, hi int, f func(item)) {
	hi = min(hi, t.n)
	if t.root == nil || lo >= hi {
		return
	}
	each(t.root, lo, hi, f)
}

func each(n *node, lo, hi int, f func(item)) {
	if n.isLeaf() {
		for _, it := range n.items[lo:hi] {
			f(it)
		}
		return
	}
	for i, c := range n.counts {
		if lo < c && hi > 0 {
			each(n.kids[i], max(lo, 0), min(hi, c), f)
		}
		lo -= c
		hi -= c
		if hi <= 0 {
			break
		}
	}
}
