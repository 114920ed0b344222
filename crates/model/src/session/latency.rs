//! Latency samples with percentiles. Memory stays bounded: past `MAX_SAMPLES` the samples
//! become a uniform reservoir, so percentiles stay honest estimates on endless live
//! captures.

const MAX_SAMPLES: usize = 200_000;

/// Latency samples of one kind (a reservoir past 200 000), for percentiles and sparklines.
#[derive(Debug, Clone, Default)]
pub struct Latencies {
    samples: Vec<f64>,
    seen: u64,
    max: Option<f64>,
    /// xorshift state for reservoir replacement (deterministic: same input, same output).
    rng: u64,
}

impl Latencies {
    pub(crate) fn add(&mut self, ms: f64) {
        self.seen += 1;
        self.max = Some(self.max.map_or(ms, |m| m.max(ms)));
        if self.samples.len() < MAX_SAMPLES {
            self.samples.push(ms);
            return;
        }
        self.rng ^= self.rng << 13 | 0x9e37_79b9;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let slot = self.rng % self.seen;
        if (slot as usize) < MAX_SAMPLES {
            self.samples[slot as usize] = ms;
        }
    }

    /// Nearest-rank percentile (`p` in 0..=100).
    pub fn percentile(&self, p: f64) -> Option<f64> {
        if self.samples.is_empty() {
            return None;
        }
        // Selecting the rank is linear; a refresh at 200 000 samples must not sort them.
        let mut v = self.samples.clone();
        let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
        let i = rank.min(v.len()) - 1;
        let (_, x, _) = v.select_nth_unstable_by(i, f64::total_cmp);
        Some(*x)
    }

    /// The largest sample ever seen.
    pub fn max(&self) -> Option<f64> {
        self.max
    }

    /// The most recent samples, oldest first (for sparklines); exact until the reservoir
    /// starts replacing.
    pub fn recent(&self, n: usize) -> &[f64] {
        &self.samples[self.samples.len().saturating_sub(n)..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut l = Latencies::default();
        for ms in [5.0, 1.0, 3.0, 2.0, 4.0] {
            l.add(ms);
        }
        assert_eq!(l.percentile(50.0), Some(3.0));
        assert_eq!(l.percentile(95.0), Some(5.0));
        assert_eq!(l.max(), Some(5.0));
    }

    #[test]
    fn reservoir_stays_bounded() {
        let mut l = Latencies::default();
        for i in 0..(MAX_SAMPLES as u64 + 1000) {
            l.add(i as f64);
        }
        assert_eq!(l.samples.len(), MAX_SAMPLES);
        assert_eq!(l.max(), Some((MAX_SAMPLES + 999) as f64));
    }
}
