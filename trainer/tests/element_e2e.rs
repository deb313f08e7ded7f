//! Train a few steps → export → the `animestyle` element runs the model and changes pixels
//! exactly as the trainer's own (burn) forward pass predicts.

use animestyle_train::config::TrainConfig;
use animestyle_train::data::Batch;
use animestyle_train::model::spec::GeneratorConfig;
use animestyle_train::train::Trainer;

fn synthetic_batch(n: usize, size: usize, step: u64) -> Batch {
    let photos: Vec<f32> = (0..n * 3 * size * size)
        .map(|i| (((i as u64 * 7919 + step * 104729) % 1000) as f32 / 500.0 - 1.0) * 0.8)
        .collect();
    // A "teacher": the photo darkened and quantised.
    let teacher = photos.iter().map(|v| ((v * 2.0).round() / 2.0 - 0.1).clamp(-1.0, 1.0)).collect();
    Batch { n, size, photos, teacher, style: Vec::new(), style_smoothed: Vec::new() }
}

/// A trainer with `generator` after `steps` steps on synthetic batches, and its export in `dir`.
fn train_and_export(generator: GeneratorConfig, steps: u64, dir: &std::path::Path) -> (Trainer, std::path::PathBuf) {
    let config = TrainConfig { generator, batch: 2, crop: 32, warmup_steps: 1, ..TrainConfig::default() };
    let mut trainer = Trainer::new(config).unwrap();
    for step in 0..steps {
        trainer.step(step, &synthetic_batch(2, 32, step)).unwrap();
    }
    let model = dir.join("model.onnx");
    animestyle_train::export::export_onnx(
        &trainer.generator_weights(),
        &[],
        &animestyle_train::export::contract("test"),
        &model,
    )
    .unwrap();
    (trainer, model)
}

/// Burn's forward and ONNX Runtime's (loaded by the element's own code) agree to 1e-4 on
/// random inputs at two sizes, for the plain and the space-to-depth layout.
#[test]
fn export_parity_with_onnx_runtime_through_the_element_loader() {
    export_parity(GeneratorConfig { c1: 8, c2: 12, c3: 16, blocks: 2, expand: 2, space_to_depth: 0 });
    export_parity(GeneratorConfig { c1: 0, c2: 0, c3: 16, blocks: 2, expand: 2, space_to_depth: 4 });
    export_parity(GeneratorConfig { c1: 0, c2: 0, c3: 16, blocks: 1, expand: 2, space_to_depth: 2 });
}

fn export_parity(generator: GeneratorConfig) {
    use gstanimestyle::frame_io::Planes;
    use gstanimestyle::session::{ModelSource, Session, SessionSettings};
    use gstanimestyle::tensor_io::RgbSource;
    let dir = tempfile::tempdir().unwrap();
    let (trainer, model) = train_and_export(generator, 2, dir.path());
    let mut session = Session::load(&ModelSource::File(model), &SessionSettings::default()).unwrap();
    for (w, h) in [(24usize, 16usize), (52, 36)] {
        // Random pixel values (exact in both the 0..255 and the [-1, 1] representations).
        let mut state = (w * 31 + h) as u64;
        let pixels: Vec<f32> = (0..3 * w * h)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((state >> 33) % 256) as f32
            })
            .collect();
        let burn_in: Vec<f32> = pixels.iter().map(|p| p / 127.5 - 1.0).collect();
        let burn_out = trainer.generate(&burn_in, 1, h, w);
        let planes = Planes { width: w, height: h, data: pixels };
        let mut ort_out = Planes::default();
        session.run(&RgbSource::Planes(&planes), (w, h), &mut ort_out).unwrap();
        let max_diff =
            burn_out.iter().zip(&ort_out.data).map(|(b, o)| (b - (o / 127.5 - 1.0)).abs()).fold(0.0f32, f32::max);
        assert!(max_diff <= 1e-4, "{generator:?} {w}x{h}: max |burn - onnxruntime| = {max_diff}");
    }
}

#[test]
fn exported_model_in_the_element_matches_the_trainer_forward() {
    let dir = tempfile::tempdir().unwrap();
    let (trainer, model) = train_and_export(
        GeneratorConfig { c1: 4, c2: 8, c3: 8, blocks: 1, expand: 2, space_to_depth: 0 },
        3,
        dir.path(),
    );

    let (w, h) = (64u32, 48u32);
    let pixel = |x: u32, y: u32| [(x * 4) as u8, (y * 5) as u8, ((x + y) * 2) as u8];
    // What burn predicts for this frame.
    let mut input = vec![0f32; 3 * (w * h) as usize];
    for y in 0..h {
        for x in 0..w {
            let p = pixel(x, y);
            for c in 0..3 {
                input[c * (w * h) as usize + (y * w + x) as usize] = p[c] as f32 / 127.5 - 1.0;
            }
        }
    }
    let predicted = trainer.generate(&input, 1, h as usize, w as usize);

    gst::init().unwrap();
    gstanimestyle::plugin_register_static().unwrap();
    let element = gst::ElementFactory::make("animestyle")
        .property("model", model.to_str().unwrap())
        .property("inference-size", 0i32)
        .build()
        .unwrap();
    let mut harness = gst_check::Harness::with_element(&element, Some("sink"), Some("src"));
    let info = gst_video::VideoInfo::builder(gst_video::VideoFormat::Rgb, w, h)
        .fps(gst::Fraction::new(30, 1))
        .build()
        .unwrap();
    harness.set_src_caps(info.to_caps().unwrap());
    let mut buffer = gst::Buffer::with_size(info.size()).unwrap();
    {
        let mut map = buffer.get_mut().unwrap().map_writable().unwrap();
        let stride = info.stride()[0] as usize;
        for y in 0..h as usize {
            for x in 0..w as usize {
                map[y * stride + x * 3..][..3].copy_from_slice(&pixel(x as u32, y as u32));
            }
        }
    }
    let out = harness.push_and_pull(buffer).unwrap();
    let map = out.map_readable().unwrap();
    let stride = info.stride()[0] as usize;
    let mut changed = 0;
    for y in 0..h as usize {
        for x in 0..w as usize {
            let p = pixel(x as u32, y as u32);
            for c in 0..3 {
                let got = map[y * stride + x * 3 + c] as f32;
                let want = ((predicted[c * (w * h) as usize + y * w as usize + x] + 1.0) * 127.5).clamp(0.0, 255.0);
                assert!((got - want).abs() <= 1.0, "pixel ({x},{y}) channel {c}: element {got}, burn {want}");
                if got as u8 != p[c] {
                    changed += 1;
                }
            }
        }
    }
    assert!(changed > (w * h) as usize, "the model changes the frame ({changed} channel values changed)");
}
