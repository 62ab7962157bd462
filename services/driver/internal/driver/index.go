package driver

import "math"

// Grid sizing: cells hold about cellDrivers drivers each, are at least
// minCellMeters on a side, and there are at most maxCellsPerSide a side.
const (
	cellDrivers     = 2
	minCellMeters   = 50.0
	maxCellsPerSide = 1024
)

// metersPerDegree is the length of one degree of a great circle.
const metersPerDegree = earthRadiusMeters * math.Pi / 180

// Index finds the drivers of a pool nearest to a point without measuring
// the distance to every driver. Positions are static, so it is built once
// from the pool, and it is safe for concurrent use.
//
// It is a grid of latitude and longitude cells laid over the pool, about
// square in meters and sized for a few drivers a cell. A Search scans the
// cells in rings around the point and hands out a driver only once no
// driver in an unscanned cell can be nearer.
type Index struct {
	points []point // by pool index

	minLat, minLon   float64 // south-west corner of the grid
	maxLat, maxLon   float64 // north-east corner of the grid
	cellLat, cellLon float64 // degrees
	rows, cols       int

	// Cell c = row*cols + col holds the pool indices
	// entries[start[c]:start[c+1]], in pool order.
	start   []int32
	entries []int32
}

// NewIndex returns the index of pool. The drivers' states do not matter.
func NewIndex(pool []Driver) *Index {
	ix := &Index{points: make([]point, len(pool))}
	if len(pool) == 0 {
		return ix
	}
	ix.minLat, ix.minLon = math.Inf(1), math.Inf(1)
	ix.maxLat, ix.maxLon = math.Inf(-1), math.Inf(-1)
	for i, d := range pool {
		p := d.Position
		ix.points[i] = newPoint(p)
		ix.minLat, ix.maxLat = min(ix.minLat, p.Lat), max(ix.maxLat, p.Lat)
		ix.minLon, ix.maxLon = min(ix.minLon, p.Lon), max(ix.maxLon, p.Lon)
	}

	latSpan := (ix.maxLat - ix.minLat) * metersPerDegree
	lonSpan := (ix.maxLon - ix.minLon) * metersPerDegree * max(math.Cos(radians((ix.minLat+ix.maxLat)/2)), 0.01)
	side := math.Sqrt(max(latSpan, minCellMeters) * max(lonSpan, minCellMeters) * cellDrivers / float64(len(pool)))
	side = max(side, minCellMeters)
	ix.rows = min(max(int(math.Ceil(latSpan/side)), 1), maxCellsPerSide)
	ix.cols = min(max(int(math.Ceil(lonSpan/side)), 1), maxCellsPerSide)
	ix.cellLat = max((ix.maxLat-ix.minLat)/float64(ix.rows), 1e-9)
	ix.cellLon = max((ix.maxLon-ix.minLon)/float64(ix.cols), 1e-9)

	// Counting sort by cell keeps pool order within a cell.
	cells := make([]int32, len(pool))
	ix.start = make([]int32, ix.rows*ix.cols+1)
	for i, d := range pool {
		row, col := ix.cellOf(d.Position)
		cells[i] = int32(row*ix.cols + col)
		ix.start[cells[i]+1]++
	}
	for c := 1; c < len(ix.start); c++ {
		ix.start[c] += ix.start[c-1]
	}
	ix.entries = make([]int32, len(pool))
	next := append([]int32(nil), ix.start[:len(ix.start)-1]...)
	for i, c := range cells {
		ix.entries[next[c]] = int32(i)
		next[c]++
	}
	return ix
}

// Len returns the number of drivers in the index.
func (ix *Index) Len() int {
	return len(ix.points)
}

// cellOf returns the cell that holds p, or the nearest cell when p is
// outside the grid.
func (ix *Index) cellOf(p Position) (row, col int) {
	row = int(math.Floor((p.Lat - ix.minLat) / ix.cellLat))
	col = int(math.Floor((p.Lon - ix.minLon) / ix.cellLon))
	return min(max(row, 0), ix.rows-1), min(max(col, 0), ix.cols-1)
}

// edgeLat returns the latitude of the southern edge of row (the northern
// edge of the grid for row == rows).
func (ix *Index) edgeLat(row int) float64 {
	if row >= ix.rows {
		return ix.maxLat
	}
	return ix.minLat + float64(row)*ix.cellLat
}

// edgeLon returns the longitude of the western edge of col (the eastern
// edge of the grid for col == cols).
func (ix *Index) edgeLon(col int) float64 {
	if col >= ix.cols {
		return ix.maxLon
	}
	return ix.minLon + float64(col)*ix.cellLon
}

// Search returns a Search of the pool from p, nearest first.
func (ix *Index) Search(p Position) *Search {
	s := &Search{ix: ix, from: p, to: newPoint(p), bound: math.Inf(-1), limit: math.Inf(1), heap: make([]found, 0, 64)}
	if ix.Len() == 0 {
		s.done = true
		return s
	}
	s.row, s.col = ix.cellOf(p)
	return s
}

// Search hands out the drivers of an Index in order of increasing
// distance from a point, the first in the pool on a tie (as Nearest picks
// them), a batch at a time. It is not safe for concurrent use.
type Search struct {
	ix       *Index
	from     Position
	to       point // from, for distance
	row, col int   // the cell the rings are centered on
	ring     int   // the next ring to scan
	done     bool
	// bound is a distance that no driver in a cell not scanned yet is
	// nearer than; the drivers of heap nearer than bound are next.
	bound float64
	// limit is the farthest a driver handed out may be (Within).
	limit    float64
	heap     []found
	measured int
}

// Within makes s hand out only the drivers at most meters from its point:
// once the next nearest driver is farther, Next hands out none. It
// returns s.
func (s *Search) Within(meters float64) *Search {
	s.limit = meters
	return s
}

type found struct {
	dist  float64
	index int32
}

func (f found) before(g found) bool {
	return f.dist < g.dist || f.dist == g.dist && f.index < g.index
}

// Next returns the pool indices of the next n drivers at most, nearest
// first; fewer when the pool runs out, and none once every driver has
// been handed out.
func (s *Search) Next(n int) []int {
	out := make([]int, 0, min(n, s.ix.Len()))
	for len(out) < n {
		switch {
		case s.beyondLimit():
			s.heap, s.done = s.heap[:0], true
			return out
		case len(s.heap) > 0 && (s.done || s.heap[0].dist < s.bound):
			out = append(out, int(s.pop().index))
		case s.done:
			return out
		default:
			s.scanRing()
		}
	}
	return out
}

// beyondLimit reports whether every driver not handed out yet is farther
// than the limit: those on the heap (its nearest is), and those in cells
// not scanned yet (bound, which none of them is nearer than, is).
func (s *Search) beyondLimit() bool {
	return (len(s.heap) == 0 || s.heap[0].dist > s.limit) && (s.done || s.bound > s.limit)
}

// scanRing puts the drivers of the next ring of cells on the heap and
// raises bound to the distance of the nearest cell left.
func (s *Search) scanRing() {
	ix := s.ix
	r := s.ring
	s.ring++
	r0, r1 := s.row-r, s.row+r
	c0, c1 := s.col-r, s.col+r
	rowLo, rowHi := max(r0, 0), min(r1, ix.rows-1)
	colLo, colHi := max(c0, 0), min(c1, ix.cols-1)
	for row := rowLo; row <= rowHi; row++ {
		if row == r0 || row == r1 {
			for col := colLo; col <= colHi; col++ {
				s.pushCell(row, col)
			}
			continue
		}
		if c0 >= 0 {
			s.pushCell(row, c0)
		}
		if c1 < ix.cols {
			s.pushCell(row, c1)
		}
	}

	if r0 <= 0 && r1 >= ix.rows-1 && c0 <= 0 && c1 >= ix.cols-1 {
		s.done = true
		return
	}
	// The cells not scanned yet lie in up to four boxes around the
	// scanned one: south, north, and west and east of it.
	bound := math.Inf(1)
	if r0 > 0 {
		bound = min(bound, minDistance(s.from, ix.minLat, ix.edgeLat(r0), ix.minLon, ix.maxLon))
	}
	if r1 < ix.rows-1 {
		bound = min(bound, minDistance(s.from, ix.edgeLat(r1+1), ix.maxLat, ix.minLon, ix.maxLon))
	}
	south, north := ix.edgeLat(rowLo), ix.edgeLat(rowHi+1)
	if c0 > 0 {
		bound = min(bound, minDistance(s.from, south, north, ix.minLon, ix.edgeLon(c0)))
	}
	if c1 < ix.cols-1 {
		bound = min(bound, minDistance(s.from, south, north, ix.edgeLon(c1+1), ix.maxLon))
	}
	// A margin of a millimeter and a billionth covers rounding, both in
	// the distances and in which cell a driver on an edge went to.
	if !math.IsInf(bound, 1) {
		bound -= 1e-3 + bound*1e-9
	}
	s.bound = bound
}

// Measured returns how many drivers s has measured the distance to so
// far: the work done, which grows with the drivers handed out, not with
// the pool.
func (s *Search) Measured() int {
	return s.measured
}

func (s *Search) pushCell(row, col int) {
	c := row*s.ix.cols + col
	entries := s.ix.entries[s.ix.start[c]:s.ix.start[c+1]]
	s.measured += len(entries)
	for _, i := range entries {
		s.push(found{dist: s.ix.points[i].distance(s.to), index: i})
	}
}

func (s *Search) push(f found) {
	h := append(s.heap, f)
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h[i].before(h[parent]) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
	s.heap = h
}

func (s *Search) pop() found {
	h := s.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		least, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && h[l].before(h[least]) {
			least = l
		}
		if r < len(h) && h[r].before(h[least]) {
			least = r
		}
		if least == i {
			break
		}
		h[i], h[least] = h[least], h[i]
		i = least
	}
	s.heap = h
	return top
}

// minDistance returns a distance in meters that no point of the box from
// latitude lat1 to lat2 and longitude lon1 to lon2 is nearer to p than: the
// distance to its nearest point, or 0 when p is over 90 degrees of
// longitude away.
func minDistance(p Position, lat1, lat2, lon1, lon2 float64) float64 {
	if p.Lon >= lon1 && p.Lon <= lon2 {
		// Nearest along p's meridian.
		switch {
		case p.Lat < lat1:
			return Distance(p, Position{Lat: lat1, Lon: p.Lon})
		case p.Lat > lat2:
			return Distance(p, Position{Lat: lat2, Lon: p.Lon})
		default:
			return 0
		}
	}
	// Nearest on the box's nearer meridian edge: at a given latitude,
	// distance grows with the difference in longitude (up to 180
	// degrees), and along a meridian it falls and then rises, least at
	// latitude atan2(sin lat, cos lat cos dLon) when dLon is at most 90
	// degrees.
	near, far := lon1, lon2
	if p.Lon > lon2 {
		near, far = lon2, lon1
	}
	if math.Abs(near-p.Lon) > 90 || math.Abs(far-p.Lon) > 180 {
		return 0
	}
	phi := radians(p.Lat)
	lat := math.Atan2(math.Sin(phi), math.Cos(phi)*math.Cos(radians(near-p.Lon))) * 180 / math.Pi
	return Distance(p, Position{Lat: min(max(lat, lat1), lat2), Lon: near})
}
