package audio

import (
	"math"
	"math/bits"
	"math/cmplx"
)

// Signal analysis for tests and the level meter. Nothing here is on the
// per-frame path; DominantFrequency allocates freely.

// maxFFT caps the FFT length DominantFrequency uses (65,536 points: 8.2 s at
// 8 kHz, 1.4 s at 48 kHz). Longer inputs are analysed as overlapping blocks.
const maxFFT = 1 << 16

// DominantFrequency returns the frequency in Hz of the strongest spectral
// peak of samples (mono, at rate Hz), or 0 for silence or fewer than 4
// samples. DC is removed first and never reported.
//
// Method (hand-written, no DSP library): a Hann-windowed radix-2 FFT,
// zero-padded to a power of two, and Gaussian (log-magnitude parabolic)
// interpolation between the peak bin and its neighbours, which places a
// clean tone to a small fraction of a bin: 1 s of a tone at 8 kHz or 48 kHz
// comes out well within ±0.1 %. Input longer than 65,536 samples is split
// into half-overlapping blocks whose power spectra are averaged (Welch), so
// memory stays bounded and the peak is the strongest over the whole input.
func DominantFrequency(samples []int16, rate int) float64 {
	n := len(samples)
	if n < 4 || rate <= 0 {
		return 0
	}
	var mean float64
	for _, s := range samples {
		mean += float64(s)
	}
	mean /= float64(n)

	size := min(1<<bits.Len(uint(n-1)), maxFFT) // next power of two ≥ n, capped
	block := min(n, size)
	window := make([]float64, block)
	for i := range window {
		window[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(block-1))
	}
	power := make([]float64, size/2)
	buf := make([]complex128, size)
	hop := max(block/2, 1)
	for start := 0; ; start += hop {
		if start+block > n {
			start = n - block // last block flush with the end
		}
		clear(buf)
		for i, w := range window {
			buf[i] = complex((float64(samples[start+i])-mean)*w, 0)
		}
		fft(buf)
		for k := range power {
			a := cmplx.Abs(buf[k])
			power[k] += a * a
		}
		if start+block >= n {
			break
		}
	}

	peak := 1
	for k := 2; k < len(power); k++ {
		if power[k] > power[peak] {
			peak = k
		}
	}
	if power[peak] == 0 {
		return 0
	}
	delta := 0.0
	if peak > 0 && peak < len(power)-1 {
		const tiny = 1e-300 // keeps log finite next to an exact zero
		a := math.Log(power[peak-1] + tiny)
		b := math.Log(power[peak] + tiny)
		c := math.Log(power[peak+1] + tiny)
		if d := a - 2*b + c; d < 0 {
			delta = 0.5 * (a - c) / d
		}
	}
	return (float64(peak) + delta) * float64(rate) / float64(size)
}

// fft is an in-place iterative radix-2 Cooley–Tukey FFT; len(x) must be a
// power of two.
func fft(x []complex128) {
	n := len(x)
	for i, j := 1, 0; i < n; i++ { // bit-reversal permutation
		bit := n >> 1
		for ; j&bit != 0; bit >>= 1 {
			j ^= bit
		}
		j |= bit
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	for length := 2; length <= n; length <<= 1 {
		w := cmplx.Rect(1, -2*math.Pi/float64(length))
		for i := 0; i < n; i += length {
			wk := complex(1, 0)
			for k := 0; k < length/2; k++ {
				u, v := x[i+k], x[i+k+length/2]*wk
				x[i+k], x[i+k+length/2] = u+v, u-v
				wk *= w
			}
		}
	}
}

// RMS returns the root-mean-square level of samples as a fraction of full
// scale: 0 for silence, ≈0.707 for a full-scale sine, ≈0.224 for the
// -10 dBFS tone source. It returns 0 for no samples and allocates nothing.
func RMS(samples []int16) float64 {
	if len(samples) == 0 {
		return 0
	}
	var sum float64
	for _, s := range samples {
		v := float64(s)
		sum += v * v
	}
	return math.Sqrt(sum/float64(len(samples))) / 32768
}

// ToneShare returns the share (0..1) of samples' energy (mono, at rate Hz)
// that is at hz: the Goertzel power of one DFT bin per 20 ms block, summed
// over the blocks, so that the phase jumps a jitter buffer or a lost packet
// leaves in a received tone do not cancel it out. A clean sine at hz reads
// ≈1, silence and other tones more than a bin (50 Hz) away ≈0; a mix of
// equally loud tones reads ≈1/n for each. Tests judge who hears whom with
// it; it allocates nothing.
func ToneShare(samples []int16, rate int, hz float64) float64 {
	block := rate / 50
	if block < 2 {
		return 0
	}
	coeff := 2 * math.Cos(2*math.Pi*hz/float64(rate))
	var power, energy float64
	for start := 0; start+block <= len(samples); start += block {
		var s1, s2 float64
		for _, v := range samples[start : start+block] {
			f := float64(v)
			energy += f * f
			s1, s2 = f+coeff*s1-s2, s1
		}
		power += s1*s1 + s2*s2 - coeff*s1*s2
	}
	if energy == 0 {
		return 0
	}
	// A sine of amplitude A gives power (A·n/2)² per block of n samples
	// and energy A²·n/2.
	return power / energy / (float64(block) / 2)
}
