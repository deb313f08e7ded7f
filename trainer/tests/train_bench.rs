//! Step-time measurement (ignored by default; run with
//! `cargo test --release -p animestyle-train --test train_bench -- --ignored --nocapture`).
//! `TRAIN_BENCH=teacher-128` etc. selects one case (mode-size with batch 4 at 128, 8 at 256).

use std::time::Instant;

use animestyle_train::config::{LossWeights, Mode, TrainConfig};
use animestyle_train::data::Batch;
use animestyle_train::train::Trainer;

fn batch(mode: Mode, n: usize, size: usize, seed: u64) -> Batch {
    let len = n * 3 * size * size;
    let img = |k: u64| -> Vec<f32> {
        (0..len).map(|i| (((i as u64 * 2654435761 + k * 97 + seed) % 1000) as f32 / 500.0 - 1.0) * 0.5).collect()
    };
    match mode {
        Mode::Teacher => Batch { n, size, photos: img(1), teacher: img(2), style: vec![], style_smoothed: vec![] },
        Mode::Anime => Batch { n, size, photos: img(1), teacher: vec![], style: img(3), style_smoothed: img(4) },
    }
}

#[test]
#[ignore]
fn step_time() {
    let only = std::env::var("TRAIN_BENCH").ok();
    for (mode, name) in [(Mode::Teacher, "teacher"), (Mode::Anime, "anime")] {
        for (n, size) in [(4usize, 128usize), (8, 256)] {
            let case = format!("{name}-{size}");
            if only.as_deref().is_some_and(|o| o != case) {
                continue;
            }
            let cfg = TrainConfig {
                mode,
                batch: n,
                crop: size,
                warmup_steps: 0,
                weights: if mode == Mode::Teacher { LossWeights::teacher() } else { LossWeights::anime() },
                ..TrainConfig::default()
            };
            let mut t = Trainer::new(cfg).unwrap();
            let b = batch(mode, n, size, 1);
            t.step(0, &b).unwrap(); // warm-up step, not timed
            let steps = 3;
            let start = Instant::now();
            for s in 1..=steps {
                t.step(s, &b).unwrap();
            }
            let per = start.elapsed().as_secs_f64() / steps as f64;
            println!("BENCH {case} batch {n}×{size}²: {per:.2} s/step");
        }
    }
}
