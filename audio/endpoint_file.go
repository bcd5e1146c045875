package audio

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// fileSource plays an 8 kHz mono 16-bit PCM WAV file from disk, looping at
// its end. It streams (a 4 KiB buffer, one read syscall every ~0.25 s of
// audio) rather than loading the file, so a long file costs no memory.
type fileSource struct {
	f          *os.File
	r          *bufio.Reader
	path       string
	dataOffset int64
	dataSize   int64 // -1: to EOF
	left       int64 // bytes left in the data chunk (if dataSize >= 0)
	played     bool  // a sample was read since the last rewind
	buf        [2 * FrameSamples]byte
}

// openFileSource opens path and checks it is 8 kHz mono 16-bit PCM with at
// least one sample.
func openFileSource(path string) (*fileSource, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r := bufio.NewReaderSize(f, 4096)
	info, err := parseWAVHeader(r, path)
	if err == nil {
		err = info.checkCallFormat(path)
	}
	if err == nil && info.dataSize >= 0 && info.dataSize < 2 {
		err = fmt.Errorf("%s: %w", path, ErrWAVEmpty)
	}
	if err == nil {
		if _, perr := r.Peek(2); perr != nil {
			err = fmt.Errorf("%s: %w", path, ErrWAVEmpty)
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return &fileSource{
		f:          f,
		r:          r,
		path:       path,
		dataOffset: info.dataOffset,
		dataSize:   info.dataSize,
		left:       info.dataSize,
	}, nil
}

// ReadFrame fills f with the next samples, continuing from the start of the
// data when the file ends (mid-frame if need be). It allocates nothing.
func (s *fileSource) ReadFrame(f []int16) error {
	if s.f == nil {
		return ErrClosed
	}
	for len(f) > 0 {
		want := 2 * min(len(f), FrameSamples)
		if s.dataSize >= 0 && int64(want) > s.left {
			want = int(s.left) &^ 1
		}
		n := 0
		if want > 0 {
			var err error
			n, err = io.ReadFull(s.r, s.buf[:want])
			if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
				return fmt.Errorf("read %s: %w", s.path, err)
			}
			n &^= 1
		}
		for i := 0; i < n; i += 2 {
			f[i/2] = int16(binary.LittleEndian.Uint16(s.buf[i:]))
		}
		f = f[n/2:]
		s.left -= int64(n)
		if n > 0 {
			s.played = true
		}
		if n < want || want == 0 {
			if err := s.rewind(); err != nil {
				return err
			}
		}
	}
	return nil
}

// rewind goes back to the first sample. It fails if nothing was read since
// the previous rewind, which would otherwise loop forever on a file that
// shrank under us.
func (s *fileSource) rewind() error {
	if !s.played {
		return fmt.Errorf("read %s: %w", s.path, ErrWAVEmpty)
	}
	s.played = false
	if _, err := s.f.Seek(s.dataOffset, io.SeekStart); err != nil {
		return fmt.Errorf("rewind %s: %w", s.path, err)
	}
	s.r.Reset(s.f)
	s.left = s.dataSize
	return nil
}

// Close closes the file. Closing twice is a no-op.
func (s *fileSource) Close() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

func (s *fileSource) String() string { return "file:" + s.path }
