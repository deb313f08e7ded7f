//! The skip test (`skip-threshold`): what the network last saw and returned, so a frame whose
//! network input did not change can reuse that stylization instead of running the network.

use rayon::prelude::*;

use crate::frame_io::Planes;
use crate::motion::BLOCK;

/// What the network last saw and returned (network size); empty when nothing may be reused.
#[derive(Debug, Clone, Default)]
pub struct SkipMemory {
    input: Planes,
    output: Planes,
}

impl SkipMemory {
    /// True when `threshold > 0` and no block of `input` differs from the remembered input by
    /// `threshold` or more (mean 8-bit levels, see [`max_block_diff`]).
    pub fn unchanged(&self, input: &Planes, threshold: f32) -> bool {
        threshold > 0.0
            && (self.input.width, self.input.height) == (input.width, input.height)
            && max_block_diff(input, &self.input) < threshold
    }

    /// Remembers what the network is about to see (its result arrives elsewhere: `latest`).
    pub fn remember_input(&mut self, input: &Planes) {
        self.input.clone_from(input);
    }

    /// Remembers what the network saw and returned.
    pub fn remember(&mut self, input: &Planes, output: &Planes) {
        self.input.clone_from(input);
        self.output.clone_from(output);
    }

    /// The output remembered with the input (see [`Self::remember`]).
    pub fn output(&self) -> &Planes {
        &self.output
    }

    /// Forgets both (a seek, new caps, another model): the next frame runs the network.
    pub fn forget(&mut self) {
        *self = SkipMemory::default();
    }
}

/// Largest mean absolute colour difference over the [`BLOCK`]² blocks: a small local change
/// (a hand moving in a static scene) shows up here even when the frame's mean barely moves.
pub fn max_block_diff(a: &Planes, b: &Planes) -> f32 {
    assert_eq!((a.width, a.height), (b.width, b.height));
    let (w, h) = (a.width, a.height);
    let n = w * h;
    (0..h.div_ceil(BLOCK))
        .into_par_iter()
        .map(|by| {
            let mut worst = 0.0f32;
            for bx in 0..w.div_ceil(BLOCK) {
                let (x0, y0) = (bx * BLOCK, by * BLOCK);
                let (x1, y1) = ((x0 + BLOCK).min(w), (y0 + BLOCK).min(h));
                let mut sum = 0.0f32;
                for c in 0..3 {
                    for y in y0..y1 {
                        let row = c * n + y * w;
                        sum += a.data[row + x0..row + x1]
                            .iter()
                            .zip(&b.data[row + x0..row + x1])
                            .map(|(p, q)| (p - q).abs())
                            .sum::<f32>();
                    }
                }
                worst = worst.max(sum / (3 * (x1 - x0) * (y1 - y0)) as f32);
            }
            worst
        })
        .reduce(|| 0.0, f32::max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::temporal::mean_abs_diff;

    fn flat(w: usize, h: usize, v: f32) -> Planes {
        Planes { width: w, height: h, data: vec![v; w * h * 3] }
    }

    #[test]
    fn an_unchanged_input_is_recognised_and_a_local_change_is_not() {
        let mut memory = SkipMemory::default();
        let a = flat(16, 16, 100.0);
        assert!(!memory.unchanged(&a, 2.0), "nothing remembered yet");
        memory.remember(&a, &flat(16, 16, 7.0));
        assert!(memory.unchanged(&flat(16, 16, 101.0), 2.0), "1 level of change is below 2");
        assert_eq!(memory.output().data[0], 7.0);
        // One 8×8 block changes by 3 levels: the frame mean barely moves but the block does.
        let mut b = a.clone();
        for y in 0..8 {
            for x in 0..8 {
                b.data[y * 16 + x] += 9.0; // red only: 3 levels mean over the three colours
            }
        }
        assert!(!memory.unchanged(&b, 2.0));
        assert!(memory.unchanged(&b, 3.5));
    }

    #[test]
    fn zero_threshold_size_change_and_forget_mean_run_the_network() {
        let mut memory = SkipMemory::default();
        let a = flat(16, 16, 100.0);
        memory.remember_input(&a);
        assert!(memory.unchanged(&a, 2.0));
        assert!(!memory.unchanged(&a, 0.0), "skip-threshold=0: always run the network");
        assert!(!memory.unchanged(&flat(8, 16, 100.0), 2.0), "another size is another picture");
        memory.forget();
        assert!(!memory.unchanged(&a, 2.0));
        assert_eq!(memory.output().data.len(), 0);
    }

    #[test]
    fn block_difference_sees_a_small_local_change() {
        let (w, h) = (64, 64);
        let a = flat(w, h, 100.0);
        let mut b = flat(w, h, 100.0);
        for y in 0..8 {
            for c in 0..3 {
                b.data[c * w * h + y * w..][..8].fill(160.0);
            }
        }
        assert!(mean_abs_diff(&a, &b) < 1.0);
        assert!(max_block_diff(&a, &b) > 50.0);
    }
}
