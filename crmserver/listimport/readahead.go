package listimport

import (
	"io"
	"sync"
)

// readAheadRows is how many rows the reading goroutine hands over at a time:
// enough that the channel costs nothing per row, few enough to keep memory flat.
const readAheadRows = 256

// readAhead runs a rowReader on a goroutine of its own, a few chunks ahead of the
// caller, so that parsing the file (XML, for .xlsx) overlaps checking numbers and
// waiting for the store: on two cores that is most of the difference between the
// sum of the two and the larger. It owns that goroutine: stop ends it and waits.
type readAhead struct {
	ch   chan rowChunk
	done chan struct{}
	wg   sync.WaitGroup

	cur []row
	i   int
	err error
}

type rowChunk struct {
	rows []row
	err  error // after the rows: io.EOF or the reader's error
}

func startReadAhead(rr rowReader) *readAhead {
	ra := &readAhead{ch: make(chan rowChunk, 4), done: make(chan struct{})}
	ra.wg.Add(1)
	go func() {
		defer ra.wg.Done()
		defer close(ra.ch)
		for {
			c := rowChunk{rows: make([]row, 0, readAheadRows)}
			for len(c.rows) < readAheadRows && c.err == nil {
				r, err := rr.Next()
				if err != nil {
					c.err = err
					break
				}
				c.rows = append(c.rows, r)
			}
			select {
			case ra.ch <- c:
			case <-ra.done:
				return
			}
			if c.err != nil {
				return
			}
		}
	}()
	return ra
}

// Next is rowReader.Next, from the goroutine's chunks.
func (ra *readAhead) Next() (row, error) {
	for ra.i >= len(ra.cur) {
		if ra.err != nil {
			return row{}, ra.err
		}
		c, ok := <-ra.ch
		if !ok {
			return row{}, io.EOF
		}
		ra.cur, ra.i, ra.err = c.rows, 0, c.err
	}
	r := ra.cur[ra.i]
	ra.cur[ra.i] = row{} // the chunk outlives the row; let the row's cells go
	ra.i++
	return r, nil
}

// stop ends the goroutine and waits for it; the rowReader may then be closed.
func (ra *readAhead) stop() {
	close(ra.done)
	ra.wg.Wait()
}
