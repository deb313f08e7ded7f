//! Generator size sweep: parameters, GFLOPs and ONNX Runtime CPU time per frame for candidate
//! [`GeneratorConfig`]s, at the element's reduced inference sizes.
//!
//! Each candidate is built with random weights, exported with the real exporter and run by the
//! element's own loader (`gstanimestyle::session::Session`, default session settings: one
//! intra-op thread per core), so the times are what the element would see. Timing does not
//! depend on the weights' values.
//!
//! ```text
//! cargo run --release -p animestyle-train --example size_sweep [-- c1,c2,c3,blocks,expand[,space_to_depth] ...]
//! ```

use std::time::Duration;

use animestyle_train::config::Backend;
use animestyle_train::model::generator::Generator as BurnGenerator;
use animestyle_train::model::spec::GeneratorConfig;
use gstanimestyle::frame_io::Planes;
use gstanimestyle::session::{ModelSource, Session, SessionSettings};
use gstanimestyle::tensor_io::RgbSource;

const SIZES: [(usize, usize); 3] = [(384, 216), (512, 288), (640, 360)];
const RUNS: usize = 15;

fn parse(arg: &str) -> Option<GeneratorConfig> {
    let v: Vec<usize> = arg.split(',').map(|s| s.trim().parse().ok()).collect::<Option<_>>()?;
    let (&[c1, c2, c3, blocks, expand], rest) = v.split_first_chunk::<5>()?;
    let space_to_depth = match rest {
        [] => 0,
        [r] => *r,
        _ => return None,
    };
    Some(GeneratorConfig { c1, c2, c3, blocks, expand, space_to_depth })
}

fn median_ms(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1e3
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let candidates: Vec<GeneratorConfig> = if args.is_empty() {
        vec![
            GeneratorConfig { c1: 8, c2: 16, c3: 32, blocks: 4, expand: 2, space_to_depth: 0 },
            GeneratorConfig { c1: 12, c2: 24, c3: 48, blocks: 4, expand: 2, space_to_depth: 0 },
            GeneratorConfig { c1: 16, c2: 32, c3: 64, blocks: 4, expand: 2, space_to_depth: 0 },
            GeneratorConfig::default(),
            GeneratorConfig { c1: 24, c2: 48, c3: 96, blocks: 6, expand: 2, space_to_depth: 0 },
            // Space-to-depth ×4: every conv at a quarter of the resolution.
            GeneratorConfig { c1: 0, c2: 0, c3: 64, blocks: 6, expand: 2, space_to_depth: 4 },
            GeneratorConfig { c1: 0, c2: 0, c3: 96, blocks: 8, expand: 2, space_to_depth: 4 },
            GeneratorConfig { c1: 0, c2: 0, c3: 128, blocks: 8, expand: 2, space_to_depth: 4 },
            GeneratorConfig { c1: 0, c2: 0, c3: 64, blocks: 6, expand: 2, space_to_depth: 2 },
        ]
    } else {
        args.iter()
            .map(|a| {
                parse(a)
                    .ok_or_else(|| anyhow::anyhow!("bad candidate {a:?}: want c1,c2,c3,blocks,expand[,space_to_depth]"))
            })
            .collect::<anyhow::Result<_>>()?
    };
    let device = Backend::Flex.device()?;
    let dir = tempfile::tempdir()?;
    print!("| c1,c2,c3,blocks,expand,space_to_depth | params | GFLOPs @384×216 |");
    for (w, h) in SIZES {
        print!(" ORT ms @{w}×{h} |");
    }
    println!();
    println!("|---|---|---|{}", "---|".repeat(SIZES.len()));
    for (i, config) in candidates.iter().enumerate() {
        let weights = BurnGenerator::new(*config, 7, &device).to_weights();
        let path = dir.path().join(format!("candidate{i}.onnx"));
        animestyle_train::export::export_onnx(&weights, &[], &animestyle_train::export::contract("sweep"), &path)?;
        let mut session =
            Session::load(&ModelSource::File(path), &SessionSettings::default()).map_err(|e| anyhow::anyhow!("{e}"))?;
        let GeneratorConfig { c1, c2, c3, blocks, expand, space_to_depth } = *config;
        print!(
            "| {c1},{c2},{c3},{blocks},{expand},{space_to_depth} | {:.0}k | {:.2} |",
            config.parameters() as f64 / 1e3,
            2.0 * config.macs(384, 216) as f64 / 1e9
        );
        for (w, h) in SIZES {
            let planes = Planes { width: w, height: h, data: (0..3 * w * h).map(|i| (i % 251) as f32).collect() };
            let mut out = Planes::default();
            let mut times = Vec::with_capacity(RUNS);
            for run in 0..RUNS + 2 {
                let t = session.run(&RgbSource::Planes(&planes), (w, h), &mut out).map_err(anyhow::Error::msg)?;
                if run >= 2 {
                    times.push(t);
                }
            }
            print!(" {:.1} |", median_ms(times));
        }
        println!();
    }
    Ok(())
}
