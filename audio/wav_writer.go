package audio

import (
	"encoding/binary"
	"fmt"
	"os"
)

// wavHeaderSize is the size of the canonical header CreateWAV writes; the
// RIFF size sits at offset 4 and the data size at offset 40.
const wavHeaderSize = 44

// wavMaxData is the most sample data a RIFF file can describe: its RIFF size
// (data + 36) must fit in 32 bits. Kept even.
const wavMaxData = (0xFFFFFFFF - (wavHeaderSize - 8)) &^ 1

// wavWriteChunk is the size of the buffer samples are converted through.
const wavWriteChunk = 4096

// WAVWriter writes a 16-bit PCM WAV file as audio arrives. Every Write goes
// straight to the file (no user-space buffering), and the RIFF and data sizes
// in the header are rewritten at least once per second of audio and on
// Close, so if the process is killed the file is still a valid WAV holding
// everything up to the last rewrite (readers that trust the header lose at
// most the last second; ReadWAV does). Power loss is another matter: nothing
// here calls fsync.
//
// A WAVWriter is not safe for concurrent use. *WAVWriter is a Sink; it must
// be closed.
type WAVWriter struct {
	f        *os.File
	path     string
	data     int64 // sample bytes written so far
	sinceFix int64 // sample bytes written since the header was last fixed
	fixEvery int64 // bytes in one second of audio
	buf      []byte
	sizes    [8]byte // scratch for header fix-ups; kept here so they do not allocate
	err      error   // sticky write error
	closed   bool
}

// CreateWAV creates (or truncates) path and writes the header of a 16-bit
// PCM WAV file with the given sample rate and channel count. The file is
// created with mode 0600 because call recordings are personal data.
func CreateWAV(path string, rate, channels int) (*WAVWriter, error) {
	return createWAV(path, rate, channels, os.O_TRUNC)
}

// createWAV is CreateWAV with the open mode's last flag chosen by the
// caller: os.O_TRUNC to replace a file, os.O_EXCL to refuse to (the
// recorder never overwrites a recording).
func createWAV(path string, rate, channels, flag int) (*WAVWriter, error) {
	if rate <= 0 || rate > 1<<20 || channels <= 0 || channels > 64 {
		return nil, fmt.Errorf("create %s: %w: %d Hz, %d channels", path, ErrWAVFormat, rate, channels)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|flag, 0o600)
	if err != nil {
		return nil, err
	}
	var h [wavHeaderSize]byte
	le := binary.LittleEndian
	copy(h[0:4], "RIFF")
	le.PutUint32(h[4:8], wavHeaderSize-8)
	copy(h[8:16], "WAVEfmt ")
	le.PutUint32(h[16:20], 16)
	le.PutUint16(h[20:22], wavFormatPCM)
	le.PutUint16(h[22:24], uint16(channels))
	le.PutUint32(h[24:28], uint32(rate))
	le.PutUint32(h[28:32], uint32(rate*channels*2)) // byte rate
	le.PutUint16(h[32:34], uint16(channels*2))      // block align
	le.PutUint16(h[34:36], 16)                      // bits per sample
	copy(h[36:40], "data")
	le.PutUint32(h[40:44], 0)
	if _, err := f.Write(h[:]); err != nil {
		f.Close()
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return &WAVWriter{
		f:        f,
		path:     path,
		fixEvery: int64(rate * channels * 2),
		buf:      make([]byte, wavWriteChunk),
	}, nil
}

// Write appends interleaved samples; over the file's life their count should
// be a multiple of the channel count, or readers drop the partial last
// frame. It does not allocate. After an error
// every later Write returns it again; Close still fixes the header so the
// file holds what was written before the error.
func (w *WAVWriter) Write(samples []int16) error {
	if w.closed {
		return ErrClosed
	}
	if w.err != nil {
		return w.err
	}
	if w.data+2*int64(len(samples)) > wavMaxData {
		w.err = fmt.Errorf("write %s: %w", w.path, ErrWAVTooLarge)
		return w.err
	}
	for len(samples) > 0 {
		n := min(len(samples), len(w.buf)/2)
		for i, s := range samples[:n] {
			binary.LittleEndian.PutUint16(w.buf[2*i:], uint16(s))
		}
		m, err := w.f.Write(w.buf[:2*n])
		w.data += int64(m)
		w.sinceFix += int64(m)
		if err != nil {
			w.err = fmt.Errorf("write %s: %w", w.path, err)
			return w.err
		}
		samples = samples[n:]
	}
	if w.sinceFix >= w.fixEvery {
		return w.fixHeader()
	}
	return nil
}

// WriteFrame writes one frame; it makes *WAVWriter a Sink.
func (w *WAVWriter) WriteFrame(f []int16) error { return w.Write(f) }

// fixHeader rewrites the RIFF and data sizes for the bytes written so far.
// It uses positioned writes, so the append offset is untouched.
func (w *WAVWriter) fixHeader() error {
	le := binary.LittleEndian
	le.PutUint32(w.sizes[0:4], uint32(w.data+wavHeaderSize-8))
	le.PutUint32(w.sizes[4:8], uint32(w.data))
	if _, err := w.f.WriteAt(w.sizes[0:4], 4); err != nil {
		w.err = fmt.Errorf("write %s header: %w", w.path, err)
		return w.err
	}
	if _, err := w.f.WriteAt(w.sizes[4:8], 40); err != nil {
		w.err = fmt.Errorf("write %s header: %w", w.path, err)
		return w.err
	}
	w.sinceFix = 0
	return nil
}

// Close writes the final sizes into the header and closes the file. It
// returns the first error the writer met, if any. Closing twice is a no-op.
func (w *WAVWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	prev := w.err
	w.err = nil
	fixErr := w.fixHeader()
	closeErr := w.f.Close()
	switch {
	case prev != nil:
		return prev
	case fixErr != nil:
		return fixErr
	case closeErr != nil:
		return fmt.Errorf("close %s: %w", w.path, closeErr)
	}
	return nil
}

// Samples reports how many samples (all channels) have been written.
func (w *WAVWriter) Samples() int64 { return w.data / 2 }
