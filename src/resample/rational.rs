//! Streaming rational resampler, `L / M`, as a polyphase windowed-sinc filter.
//!
//! Conceptually the input is zero-stuffed by `L`, low-pass filtered at the upsampled
//! rate by `h` (Kaiser-windowed sinc, gain `L`, cutoff just below the narrower of the
//! two Nyquist bands) and kept every `M`-th sample. The filter's group delay is taken
//! out: output sample `n` is the band-limited input evaluated at input time `n M / L`,
//! so positions map exactly (`input index = output index * M / L`). Input before the
//! first sample and after the last is taken as zero; a stream of `N` input samples gives
//! `ceil(N L / M)` output samples once [`RationalResampler::finish`] is called.
//!
//! Only the `taps_per_phase` products of one polyphase branch are computed per output
//! sample. Limits: `L` and `M` up to [`MAX_FACTOR`]; the design attenuates images and
//! aliases by about 80 dB beyond a transition band of 10 % of the narrower Nyquist band.

use super::kaiser_sinc::{kaiser_beta, kaiser_lowpass};
use num_complex::Complex32;

/// Largest interpolation or decimation factor accepted.
pub const MAX_FACTOR: u32 = 1000;
/// Zero crossings of the sinc on each side of its centre, per unit of the narrower
/// band: sets the filter length and the transition width.
const HALF_ZERO_CROSSINGS: usize = 32;
/// Stop-band attenuation of the design, dB.
const STOPBAND_DB: f64 = 80.0;
/// Fraction of the narrower Nyquist band kept flat (the rest is the transition band).
const PASSBAND_FRACTION: f64 = 0.9;

/// The prototype filter of a `l / m` resampler at the upsampled rate, gain `l`:
/// `2 * HALF_ZERO_CROSSINGS * max(l, m) + 1` taps.
pub fn design_prototype(l: u32, m: u32) -> Vec<f32> {
    let widest = l.max(m) as usize;
    let n_taps = 2 * HALF_ZERO_CROSSINGS * widest + 1;
    // Nyquist of the narrower band, in cycles per upsampled sample, then moved in so
    // that the transition band ends at that Nyquist frequency.
    let nyquist = 0.5 / widest as f64;
    let cutoff = nyquist * (1.0 + PASSBAND_FRACTION) / 2.0;
    kaiser_lowpass(n_taps, cutoff, kaiser_beta(STOPBAND_DB), f64::from(l))
}

/// `sum_t xs[t] h[t]` over equal-length slices, in eight independent lanes so the
/// compiler can vectorize it.
fn dot(xs: &[Complex32], h: &[f32]) -> Complex32 {
    const LANES: usize = 8;
    let (mut re, mut im) = ([0.0f32; LANES], [0.0f32; LANES]);
    let (xc, hc) = (xs.chunks_exact(LANES), h.chunks_exact(LANES));
    let (x_rest, h_rest) = (xc.remainder(), hc.remainder());
    for (x, h) in xc.zip(hc) {
        for k in 0..LANES {
            re[k] += x[k].re * h[k];
            im[k] += x[k].im * h[k];
        }
    }
    let mut acc = Complex32::new(re.iter().sum(), im.iter().sum());
    for (x, &h) in x_rest.iter().zip(h_rest) {
        acc += x * h;
    }
    acc
}

/// Streaming `L / M` resampler; see the module documentation.
#[derive(Debug, Clone)]
pub struct RationalResampler {
    l: u64,
    m: u64,
    /// Centre of the prototype, upsampled samples: `(n_taps - 1) / 2`.
    centre: u64,
    /// `phases[p][j] = h[p + j L]` (zero past the end), each of `taps_per_phase`.
    phases: Vec<Vec<f32>>,
    /// `phases[p]` reversed, to run forward over a contiguous slice of input.
    reversed: Vec<Vec<f32>>,
    taps_per_phase: usize,
    /// Input samples kept: `history[0]` has absolute index `history_start`.
    history: Vec<Complex32>,
    history_start: u64,
    /// Absolute input samples received.
    received: u64,
    /// Next output index.
    next_out: u64,
}

impl RationalResampler {
    /// A resampler by `l / m` with the standard prototype ([`design_prototype`]).
    ///
    /// # Panics
    /// If `l` or `m` is 0 or above [`MAX_FACTOR`].
    pub fn new(l: u32, m: u32) -> Self {
        Self::with_prototype(l, m, design_prototype(l, m))
    }

    /// A resampler by `l / m` with the prototype `h` at the upsampled rate (odd length,
    /// linear phase, gain `l`).
    ///
    /// # Panics
    /// If `l` or `m` is 0 or above [`MAX_FACTOR`], or `h` is empty or of even length.
    pub fn with_prototype(l: u32, m: u32, h: Vec<f32>) -> Self {
        assert!(
            (1..=MAX_FACTOR).contains(&l) && (1..=MAX_FACTOR).contains(&m),
            "RationalResampler: expected factors in 1..={MAX_FACTOR}, got {l}/{m}"
        );
        assert!(
            h.len() % 2 == 1,
            "RationalResampler: expected an odd-length prototype, got {} taps",
            h.len()
        );
        let l64 = u64::from(l);
        let taps_per_phase = h.len().div_ceil(l as usize);
        let phases: Vec<Vec<f32>> = (0..l as usize)
            .map(|p| {
                (0..taps_per_phase)
                    .map(|j| h.get(p + j * l as usize).copied().unwrap_or(0.0))
                    .collect()
            })
            .collect();
        let reversed = phases
            .iter()
            .map(|ph| ph.iter().rev().copied().collect())
            .collect();
        Self {
            l: l64,
            m: u64::from(m),
            centre: (h.len() as u64 - 1) / 2,
            phases,
            reversed,
            taps_per_phase,
            history: Vec::new(),
            history_start: 0,
            received: 0,
            next_out: 0,
        }
    }

    /// Interpolation factor `L`.
    pub fn l(&self) -> u32 {
        self.l as u32
    }

    /// Decimation factor `M`.
    pub fn m(&self) -> u32 {
        self.m as u32
    }

    /// Output samples a stream of `n_in` input samples gives in all: `ceil(n_in L / M)`.
    pub fn output_len(&self, n_in: u64) -> u64 {
        (n_in * self.l).div_ceil(self.m)
    }

    /// Upsampled index of output `n`'s centre: `n M + centre`.
    fn k_of(&self, n: u64) -> u64 {
        n * self.m + self.centre
    }

    /// Input sample `i` (absolute), zero outside what was received or kept.
    fn x(&self, i: u64) -> Complex32 {
        if i < self.history_start {
            return Complex32::new(0.0, 0.0);
        }
        self.history
            .get((i - self.history_start) as usize)
            .copied()
            .unwrap_or(Complex32::new(0.0, 0.0))
    }

    /// Output `n`: `sum_j h[p + j L] x[i0 - j]` with `k = n M + centre`, `i0 = k / L`,
    /// `p = k mod L`.
    fn output(&self, n: u64) -> Complex32 {
        let k = self.k_of(n);
        let (i0, p) = (k / self.l, (k % self.l) as usize);
        let t = self.taps_per_phase as u64;
        // Fast path: all inputs the branch needs are held, so it is one dot product over
        // a contiguous slice.
        if i0 + 1 >= t + self.history_start && i0 < self.history_start + self.history.len() as u64 {
            let lo = (i0 + 1 - t - self.history_start) as usize;
            let xs = &self.history[lo..lo + t as usize];
            return dot(xs, &self.reversed[p]);
        }
        let taps = &self.phases[p];
        let mut acc = Complex32::new(0.0, 0.0);
        for (j, &h) in taps.iter().enumerate() {
            if (j as u64) > i0 {
                break;
            }
            acc += self.x(i0 - j as u64) * h;
        }
        acc
    }

    /// Drops input no future output needs.
    fn trim(&mut self) {
        let k = self.k_of(self.next_out);
        let oldest_needed = (k / self.l).saturating_sub(self.taps_per_phase as u64 - 1);
        if oldest_needed > self.history_start {
            let drop = ((oldest_needed - self.history_start) as usize).min(self.history.len());
            self.history.drain(..drop);
            self.history_start += drop as u64;
        }
    }

    /// Consumes `input` (any length) and appends every output sample it completes.
    pub fn process(&mut self, input: &[Complex32], out: &mut Vec<Complex32>) {
        self.history.extend_from_slice(input);
        self.received += input.len() as u64;
        // Output n needs input up to i0 = (n M + centre) / L.
        while self.k_of(self.next_out) / self.l < self.received {
            out.push(self.output(self.next_out));
            self.next_out += 1;
        }
        self.trim();
    }

    /// Ends the input: appends the outputs up to `ceil(received L / M)`, computed with
    /// zeros after the last input sample.
    pub fn finish(&mut self, out: &mut Vec<Complex32>) {
        let total = self.output_len(self.received);
        while self.next_out < total {
            out.push(self.output(self.next_out));
            self.next_out += 1;
        }
        self.trim();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// The textbook definition, with no polyphase decomposition: zero-stuff by `l`,
    /// convolve with `h` in full, keep samples `n m + centre`.
    fn naive(x: &[Complex32], l: usize, m: usize, h: &[f32]) -> Vec<Complex32> {
        let mut up = vec![Complex32::new(0.0, 0.0); x.len() * l];
        for (i, &s) in x.iter().enumerate() {
            up[i * l] = s;
        }
        let centre = (h.len() - 1) / 2;
        let n_out = (x.len() * l).div_ceil(m);
        (0..n_out)
            .map(|n| {
                let k = n * m + centre;
                let mut acc = Complex32::new(0.0, 0.0);
                for (t, &ht) in h.iter().enumerate() {
                    if t <= k && k - t < up.len() {
                        acc += up[k - t] * ht;
                    }
                }
                acc
            })
            .collect()
    }

    fn noise(n: usize, seed: u64) -> Vec<Complex32> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| Complex32::new(rng.random_range(-1.0..1.0), rng.random_range(-1.0..1.0)))
            .collect()
    }

    #[test]
    fn polyphase_equals_the_naive_definition_for_any_chunking() {
        // Ratios up, down, equal and coprime, fed in uneven chunks: a wrong phase, a
        // dropped history sample or an off-by-one at a chunk edge changes the output.
        for (l, m) in [(5u32, 4u32), (4, 5), (1, 1), (3, 7), (125, 192)] {
            let x = noise(700, u64::from(l * 1000 + m));
            let h = design_prototype(l, m);
            let expected = naive(&x, l as usize, m as usize, &h);
            let mut r = RationalResampler::new(l, m);
            let mut got = Vec::new();
            let mut fed = 0;
            for size in [1usize, 13, 0, 200, 7, 1000].iter().cycle() {
                if fed >= x.len() {
                    break;
                }
                let end = (fed + size).min(x.len());
                r.process(&x[fed..end], &mut got);
                fed = end;
            }
            r.finish(&mut got);
            assert_eq!(got.len(), expected.len(), "{l}/{m}: output length");
            let worst = got
                .iter()
                .zip(&expected)
                .map(|(a, b)| (a - b).norm())
                .fold(0.0f32, f32::max);
            assert!(
                worst < 1e-5,
                "{l}/{m}: differs from the definition by {worst}"
            );
        }
    }

    /// Resamples a complex tone at `f_hz` from `fs_in` to `fs_out` and returns the
    /// worst error, in dB against the tone's amplitude, away from both ends.
    fn tone_error_db(l: u32, m: u32, fs_in: f64, f_hz: f64) -> f64 {
        let fs_out = fs_in * f64::from(l) / f64::from(m);
        let n_in = 20_000usize;
        let tone = |t: f64| {
            let ph = 2.0 * std::f64::consts::PI * f_hz * t;
            Complex32::new(ph.cos() as f32, ph.sin() as f32)
        };
        let x: Vec<Complex32> = (0..n_in).map(|i| tone(i as f64 / fs_in)).collect();
        let mut r = RationalResampler::new(l, m);
        let mut y = Vec::new();
        r.process(&x, &mut y);
        r.finish(&mut y);
        let edge = 2000;
        let worst = (edge..y.len() - edge)
            .map(|n| f64::from((y[n] - tone(n as f64 / fs_out)).norm()))
            .fold(0.0, f64::max);
        20.0 * worst.log10()
    }

    #[test]
    fn tones_keep_their_frequency_phase_and_amplitude() {
        // 25 MS/s -> 20 MS/s (4/5) and back (5/4), 30.72 -> 20 (125/192), 10 -> 20
        // (2/1): tones inside the 802.11a occupied band (8.3 MHz) and, for 10 MS/s, its
        // own band. The output must equal the tone sampled at the new rate, with no
        // delay, to better than -60 dB.
        let cases = [
            (4, 5, 25e6, 8.3e6),
            (4, 5, 25e6, -3.1e6),
            (5, 4, 20e6, 7.9e6),
            (125, 192, 30.72e6, 6.0e6),
            (2, 1, 10e6, -4.0e6),
        ];
        for (l, m, fs, f) in cases {
            let db = tone_error_db(l, m, fs, f);
            assert!(
                db < -60.0,
                "{l}/{m} at {fs} Hz, tone {f} Hz: error {db:.1} dB"
            );
        }
    }

    #[test]
    fn round_trip_restores_a_band_limited_signal() {
        // 20 -> 25 -> 20 MS/s on a sum of tones inside +-8 MHz: the second stage must
        // undo the first.
        let fs = 20e6;
        let freqs = [-7.5e6, -2.0e6, 0.3e6, 4.4e6, 8.0e6];
        let x: Vec<Complex32> = (0..10_000)
            .map(|i| {
                let t = i as f64 / fs;
                freqs
                    .iter()
                    .map(|f| {
                        let ph = 2.0 * std::f64::consts::PI * f * t;
                        Complex32::new(ph.cos() as f32, ph.sin() as f32) * 0.2
                    })
                    .sum()
            })
            .collect();
        let (mut up, mut down) = (RationalResampler::new(5, 4), RationalResampler::new(4, 5));
        let (mut mid, mut back) = (Vec::new(), Vec::new());
        up.process(&x, &mut mid);
        up.finish(&mut mid);
        down.process(&mid, &mut back);
        down.finish(&mut back);
        assert_eq!(back.len(), x.len(), "round trip must keep the length");
        let worst = (1000..9000)
            .map(|n| (back[n] - x[n]).norm())
            .fold(0.0f32, f32::max);
        assert!(20.0 * worst.log10() < -55.0, "round trip error {worst}");
    }

    #[test]
    fn out_of_band_tones_are_rejected_when_decimating() {
        // 25 -> 20 MS/s: a tone at 11.5 MHz lies beyond the new Nyquist (10 MHz) and
        // would alias to -8.5 MHz; the filter must remove it.
        let fs = 25e6;
        let x: Vec<Complex32> = (0..20_000)
            .map(|i| {
                let ph = 2.0 * std::f64::consts::PI * 11.5e6 * i as f64 / fs;
                Complex32::new(ph.cos() as f32, ph.sin() as f32)
            })
            .collect();
        let mut r = RationalResampler::new(4, 5);
        let mut y = Vec::new();
        r.process(&x, &mut y);
        let power: f32 = y[2000..14_000].iter().map(|s| s.norm_sqr()).sum::<f32>() / 12_000.0;
        assert!(
            10.0 * power.log10() < -70.0,
            "alias at {} dB",
            10.0 * power.log10()
        );
    }
}
