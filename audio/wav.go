package audio

// WAV (RIFF/WAVE, PCM) is hand-written here rather than taken from a library:
// the format is tiny (a 12-byte RIFF header and a list of chunks), and the
// call recorder needs a writer that rewrites the RIFF and data sizes in the
// header while it writes, so that a file is readable up to the last second
// even after the process is killed. General WAV libraries write the sizes
// only on Close. See WAVWriter.

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// WAVE format tags (the fmt chunk's wFormatTag).
const (
	wavFormatPCM        = 0x0001
	wavFormatFloat      = 0x0003
	wavFormatALaw       = 0x0006
	wavFormatMuLaw      = 0x0007
	wavFormatExtensible = 0xFFFE
)

// wavMaxFmtChunk bounds the fmt chunk we are willing to read (the largest
// standard one, WAVE_FORMAT_EXTENSIBLE, is 40 bytes).
const wavMaxFmtChunk = 1024

// wavInfo is what the header of a WAV file says.
type wavInfo struct {
	format     uint16 // format tag, EXTENSIBLE resolved to its sub-format
	channels   int
	rate       int
	bits       int
	block      int   // bytes per sample frame (the fmt chunk's nBlockAlign)
	dataOffset int64 // file offset of the first sample byte
	dataSize   int64 // bytes of samples; -1 if unknown (read to EOF)
}

// parseWAVHeader reads r up to the first byte of the data chunk. It skips
// chunks it does not know (LIST, fact, cue, ...) and treats a data size of 0
// or 0xFFFFFFFF as "unknown, read to EOF": that is what an unfinished file
// (or an RF64/streamed one) looks like. path is only used in errors.
func parseWAVHeader(r *bufio.Reader, path string) (wavInfo, error) {
	var info wavInfo
	corrupt := func(what string) (wavInfo, error) {
		return info, fmt.Errorf("%s: %w: %s", path, ErrWAVCorrupt, what)
	}
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return corrupt("shorter than a RIFF header")
	}
	if (string(hdr[0:4]) != "RIFF" && string(hdr[0:4]) != "RF64") || string(hdr[8:12]) != "WAVE" {
		return corrupt("no RIFF/WAVE header")
	}
	off := int64(12)
	haveFmt := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return corrupt("no data chunk")
		}
		off += 8
		id, size := string(ch[0:4]), int64(binary.LittleEndian.Uint32(ch[4:8]))
		switch id {
		case "fmt ":
			if size < 16 || size > wavMaxFmtChunk {
				return corrupt(fmt.Sprintf("fmt chunk of %d bytes", size))
			}
			buf := make([]byte, size+size&1)
			if _, err := io.ReadFull(r, buf); err != nil {
				return corrupt("truncated fmt chunk")
			}
			off += int64(len(buf))
			info.format = binary.LittleEndian.Uint16(buf[0:2])
			info.channels = int(binary.LittleEndian.Uint16(buf[2:4]))
			info.rate = int(binary.LittleEndian.Uint32(buf[4:8]))
			info.block = int(binary.LittleEndian.Uint16(buf[12:14]))
			info.bits = int(binary.LittleEndian.Uint16(buf[14:16]))
			if info.format == wavFormatExtensible && size >= 40 {
				// The sub-format GUID starts with the real format tag.
				info.format = binary.LittleEndian.Uint16(buf[24:26])
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return corrupt("data chunk before fmt chunk")
			}
			info.dataOffset = off
			info.dataSize = size
			if size == 0 || size == 0xFFFFFFFF {
				info.dataSize = -1
			}
			return info, nil
		default:
			n := size + size&1 // chunks are padded to even length
			if d, err := r.Discard(int(n)); err != nil || int64(d) != n {
				return corrupt(fmt.Sprintf("truncated %q chunk", id))
			}
			off += n
		}
	}
}

// describe puts a format in words: "44100 Hz stereo 16-bit PCM".
func (w wavInfo) describe() string {
	var layout string
	switch w.channels {
	case 1:
		layout = "mono"
	case 2:
		layout = "stereo"
	default:
		layout = fmt.Sprintf("%d-channel", w.channels)
	}
	var enc string
	switch w.format {
	case wavFormatPCM:
		enc = fmt.Sprintf("%d-bit PCM", w.bits)
	case wavFormatFloat:
		enc = fmt.Sprintf("%d-bit float", w.bits)
	case wavFormatALaw:
		enc = "G.711 A-law"
	case wavFormatMuLaw:
		enc = "G.711 μ-law"
	default:
		enc = fmt.Sprintf("format tag 0x%04x", w.format)
	}
	return fmt.Sprintf("%d Hz %s %s", w.rate, layout, enc)
}

// isPCM16 reports whether the samples are interleaved 16-bit PCM.
func (w wavInfo) isPCM16() bool {
	return w.format == wavFormatPCM && w.bits == 16 && w.channels > 0 && w.rate > 0
}

// checkCallFormat returns an error wrapping ErrWAVFormat unless w is the
// 8 kHz mono 16-bit PCM every call endpoint uses.
func (w wavInfo) checkCallFormat(path string) error {
	if w.isPCM16() && w.rate == SampleRate && w.channels == 1 {
		return nil
	}
	return fmt.Errorf("%s: %w: found %s; opdesk plays 8000 Hz mono 16-bit PCM; convert it with: sox %s -r 8000 -c 1 -b 16 out.wav",
		path, ErrWAVFormat, w.describe(), path)
}

// ReadWAV reads a whole 16-bit PCM WAV file of any rate and channel count.
// samples are interleaved (frame i of channel c is samples[i*channels+c]);
// use Channel to pick one out. Extra chunks are skipped; a data size of 0 or
// 0xFFFFFFFF (a file whose writer never finished) and a truncated data chunk
// are read up to the end of the file. Anything that is not 16-bit PCM gives
// an error wrapping ErrWAVFormat; a file that is not WAV at all, one wrapping
// ErrWAVCorrupt.
func ReadWAV(path string) (samples []int16, rate int, channels int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	info, err := parseWAVHeader(r, path)
	if err != nil {
		return nil, 0, 0, err
	}
	if !info.isPCM16() {
		return nil, 0, 0, fmt.Errorf("%s: %w: found %s, want 16-bit PCM; convert it with: sox %s -b 16 -e signed-integer out.wav",
			path, ErrWAVFormat, info.describe(), path)
	}
	var src io.Reader = r
	if info.dataSize >= 0 {
		src = io.LimitReader(r, info.dataSize)
	}
	data, err := io.ReadAll(src)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	return samplesFromLE(nil, data), info.rate, info.channels, nil
}

// samplesFromLE appends the little-endian int16 samples of b (an odd
// trailing byte is ignored) to dst.
func samplesFromLE(dst []int16, b []byte) []int16 {
	for i := 0; i+1 < len(b); i += 2 {
		dst = append(dst, int16(binary.LittleEndian.Uint16(b[i:])))
	}
	return dst
}

// Channel returns channel ch (0-based) of interleaved samples with the given
// channel count, as a new slice. It returns nil if ch is out of range.
func Channel(interleaved []int16, channels, ch int) []int16 {
	if channels <= 0 || ch < 0 || ch >= channels {
		return nil
	}
	out := make([]int16, 0, len(interleaved)/channels)
	for i := ch; i < len(interleaved); i += channels {
		out = append(out, interleaved[i])
	}
	return out
}
