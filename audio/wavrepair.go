package audio

// Repairing recordings cut by a crash. WAVWriter rewrites the header's RIFF
// and data sizes once per second of audio, so after kill -9 (or an OOM
// kill) the header may describe up to a second less than the file holds,
// or, before the first rewrite, nothing at all; a copy cut short leaves a
// header that describes more than is there. RepairWAV makes the sizes agree
// with the file, keeping whole sample frames; RecoverRecordings runs it over
// the recordings folder at startup.

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// RecoverRecordings walks dir and repairs every .wav file in it with
// RepairWAV, returning the paths it repaired. Run it at startup, before any
// call is recorded: a file still being written would be cut under its
// writer. Files it cannot repair (not WAV, unreadable) are left as they are
// and named in the returned error, which joins one error per file; the walk
// goes on past them. A missing dir is not an error (nothing recorded yet).
// Symbolic links are not followed.
func RecoverRecordings(dir string) ([]string, error) {
	var repaired []string
	var errs []error
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			errs = append(errs, fmt.Errorf("recover recordings: %w", err))
			return nil // WalkDir skips an unreadable directory and goes on
		}
		if !d.Type().IsRegular() || !strings.EqualFold(filepath.Ext(p), ".wav") {
			return nil
		}
		ok, _, err := RepairWAV(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("recover recordings: %w", err))
		} else if ok {
			repaired = append(repaired, p)
		}
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	return repaired, errors.Join(errs...)
}

// RepairWAV makes the RIFF and data sizes in a WAV header agree with the
// file. A file cut while it was written (kill -9 between header updates, a
// data size still 0, or cut short by a copy) is given the sizes of what it
// holds, and a partly written last sample frame is cut off. A file whose
// sizes agree (including one with chunks after its data, as sox writes) is
// left untouched and repaired is false. dur is the audio the file holds
// after the call. A file that is not a WAV (error wrapping ErrWAVCorrupt),
// whose format is not plain PCM, float or G.711, or that is RF64
// (ErrWAVFormat), or that holds more than a RIFF header can describe
// (ErrWAVTooLarge) is left untouched. The repair is fsynced.
//
// Hand-written for the same reason as WAVWriter: libraries read WAV headers,
// none repairs them in place.
func RepairWAV(path string) (repaired bool, dur time.Duration, err error) {
	f, err := os.Open(path)
	if err != nil {
		return false, 0, fmt.Errorf("repair %w", err)
	}
	defer f.Close()
	info, riff, data, size, err := readRepairHeader(f, path)
	if err != nil {
		return false, 0, err
	}
	end := info.dataOffset + data // end of the samples the header claims
	pad := data & 1
	if data != 0xFFFFFFFF && end <= size && (end+pad >= size || chunksFill(f, end+pad, size)) {
		// The data chunk, and any chunks after it, are intact.
		dur = info.duration(data)
		if riff == size-8 || (end == size && riff == size+pad-8) {
			return false, dur, nil
		}
		return true, dur, patchWAVSizes(path, size, size-8, info.dataOffset, data)
	}
	// The samples run to the end of the file: keep whole frames only.
	data = size - info.dataOffset
	if info.dataOffset-8+data+1 > 0xFFFFFFFF {
		return false, 0, fmt.Errorf("repair %s: %w: %d bytes of samples do not fit a RIFF header", path, ErrWAVTooLarge, data)
	}
	data -= data % int64(info.block)
	newSize := info.dataOffset + data + data&1
	return true, info.duration(data), patchWAVSizes(path, newSize, newSize-8, info.dataOffset, data)
}

// readRepairHeader parses the header of f (named path) for RepairWAV and
// returns it with the raw RIFF and data sizes and the file's length.
func readRepairHeader(f *os.File, path string) (info wavInfo, riff, data, size int64, err error) {
	fail := func(err error) (wavInfo, int64, int64, int64, error) { return info, 0, 0, 0, err }
	fi, err := f.Stat()
	if err != nil {
		return fail(fmt.Errorf("repair %w", err))
	}
	size = fi.Size()
	if info, err = parseWAVHeader(bufio.NewReader(f), path); err != nil {
		return fail(fmt.Errorf("repair %w", err))
	}
	var raw [4]byte
	if _, err := f.ReadAt(raw[:], 0); err != nil || string(raw[:]) != "RIFF" {
		return fail(fmt.Errorf("repair %s: %w: RF64 files (over 4 GiB) are not repaired", path, ErrWAVFormat))
	}
	if _, err := f.ReadAt(raw[:], 4); err != nil {
		return fail(fmt.Errorf("repair %s: %w", path, err))
	}
	riff = int64(binary.LittleEndian.Uint32(raw[:]))
	if _, err := f.ReadAt(raw[:], info.dataOffset-4); err != nil {
		return fail(fmt.Errorf("repair %s: %w", path, err))
	}
	data = int64(binary.LittleEndian.Uint32(raw[:]))
	if info.rate <= 0 || info.channels <= 0 || info.bits <= 0 || info.bits%8 != 0 || info.block != info.channels*info.bits/8 {
		return fail(fmt.Errorf("repair %s: %w: %s with %d-byte frames; only plain PCM, float and G.711 files are repaired",
			path, ErrWAVFormat, info.describe(), info.block))
	}
	return info, riff, data, size, nil
}

// duration is how long bytes of samples in this format play.
func (w wavInfo) duration(bytes int64) time.Duration {
	frames := bytes / int64(w.block)
	return time.Duration(frames) * time.Second / time.Duration(w.rate)
}

// chunksFill reports whether the bytes of f from off to end are a chain of
// RIFF chunks (printable four-character ids) ending exactly at end, or at end
// less a missing pad byte. Samples after a stale data size are not: the
// chance that audio spells out chunk headers that land exactly on the end of
// the file is nil in practice.
func chunksFill(f *os.File, off, end int64) bool {
	var h [8]byte
	for off < end {
		if end-off < 8 {
			return false
		}
		if _, err := f.ReadAt(h[:], off); err != nil {
			return false
		}
		for _, c := range h[:4] {
			if c < 0x20 || c > 0x7e {
				return false
			}
		}
		n := int64(binary.LittleEndian.Uint32(h[4:]))
		off += 8 + n
		if off == end {
			return true // last chunk, pad byte missing or not needed
		}
		off += n & 1
	}
	return off == end
}

// patchWAVSizes sets path's length to size (cutting a partial frame, or
// adding the pad byte after odd-length data) and writes the RIFF and data
// sizes, then syncs: a repair is worth keeping through the next crash.
func patchWAVSizes(path string, size, riff, dataOffset, data int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("repair %w", err)
	}
	var b [4]byte
	err = f.Truncate(size)
	if err == nil {
		binary.LittleEndian.PutUint32(b[:], uint32(riff))
		_, err = f.WriteAt(b[:], 4)
	}
	if err == nil {
		binary.LittleEndian.PutUint32(b[:], uint32(data))
		_, err = f.WriteAt(b[:], dataOffset-4)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("repair %s: %w", path, err)
	}
	return nil
}
