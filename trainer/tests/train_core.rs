//! Core trainer tests: tiny networks, procedural images, a handful of steps.

mod support;

use animestyle_train::config::{Backend, LossWeights, Mode, TrainConfig};
use animestyle_train::data::Batch;
use animestyle_train::model::spec::{Activation, GeneratorConfig, GeneratorWeights, LEAKY_SLOPE};
use animestyle_train::train::Trainer;

fn tiny() -> GeneratorConfig {
    GeneratorConfig { c1: 4, c2: 8, c3: 8, blocks: 1, expand: 2, space_to_depth: 0 }
}

fn config(mode: Mode) -> TrainConfig {
    TrainConfig {
        mode,
        generator: tiny(),
        batch: 2,
        crop: 16,
        seed: 7,
        lr_generator: 2e-3,
        lr_discriminator: 2e-3,
        warmup_steps: 2,
        weights: match mode {
            Mode::Teacher => LossWeights::teacher(),
            Mode::Anime => LossWeights::anime(),
        },
        vgg19: None,
        perceptual: None,
        backend: Backend::Flex,
        init_from: None,
    }
}

/// A deterministic procedural image: gradients, a disc, stripes; NCHW `[-1, 1]`.
fn image(seed: u64, size: usize) -> Vec<f32> {
    let s = seed as f32;
    let mut v = vec![0f32; 3 * size * size];
    let (cx, cy) =
        ((0.3 + 0.4 * ((s * 0.37).sin() * 0.5 + 0.5)) * size as f32, (0.5 + 0.2 * (s * 1.3).cos()) * size as f32);
    for y in 0..size {
        for x in 0..size {
            let (fx, fy) = (x as f32 / size as f32, y as f32 / size as f32);
            let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
            let disc = if d < size as f32 * 0.25 { 0.6 } else { 0.0 };
            let stripes = 0.2 * ((x as f32 * 0.9 + s).sin());
            let rgb = [
                fx * 1.2 - 0.6 + disc + stripes,
                fy - 0.5 - disc * 0.5 + 0.1 * (s * 0.7).sin(),
                0.4 * (fx + fy) - 0.4 + stripes * 0.5 + 0.1 * (s * 0.2).cos(),
            ];
            for c in 0..3 {
                v[(c * size + y) * size + x] = rgb[c].clamp(-1.0, 1.0);
            }
        }
    }
    v
}

/// Synthetic "teacher": 3×3 box blur then quantisation to 4 levels per channel.
fn teacher(img: &[f32], size: usize) -> Vec<f32> {
    let mut out = vec![0f32; img.len()];
    for c in 0..3 {
        for y in 0..size {
            for x in 0..size {
                let (mut s, mut k) = (0.0, 0.0);
                for dy in -1i32..=1 {
                    for dx in -1i32..=1 {
                        let (yy, xx) = (y as i32 + dy, x as i32 + dx);
                        if yy >= 0 && xx >= 0 && (yy as usize) < size && (xx as usize) < size {
                            s += img[(c * size + yy as usize) * size + xx as usize];
                            k += 1.0;
                        }
                    }
                }
                let b: f32 = s / k;
                out[(c * size + y) * size + x] = ((b + 1.0) * 1.5).round() / 1.5 - 1.0;
            }
        }
    }
    out
}

fn batch(mode: Mode, n: usize, size: usize, seed: u64) -> Batch {
    let mut b = Batch { n, size, photos: vec![], teacher: vec![], style: vec![], style_smoothed: vec![] };
    for i in 0..n as u64 {
        let p = image(seed * 31 + i, size);
        match mode {
            Mode::Teacher => b.teacher.extend(teacher(&p, size)),
            Mode::Anime => {
                let st = teacher(&image(seed * 31 + i + 1000, size), size);
                b.style_smoothed.extend(teacher(&st, size));
                b.style.extend(st);
            }
        }
        b.photos.extend(p);
    }
    b
}

fn l1(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs() as f64).sum::<f64>() / a.len() as f64
}

#[test]
fn teacher_run_lowers_l1() {
    let cfg = TrainConfig { warmup_steps: 10, ..config(Mode::Teacher) };
    let mut t = Trainer::new(cfg).unwrap();
    let eval = batch(Mode::Teacher, 2, 16, 999);
    let before = l1(&t.generate(&eval.photos, 2, 16, 16), &eval.teacher);
    let mut first = Vec::new();
    let mut last = Vec::new();
    for step in 0..40u64 {
        let b = batch(Mode::Teacher, 2, 16, step % 8);
        let l = t.step(step, &b).unwrap();
        let term = l.terms.iter().find(|(k, _)| *k == "teacher_l1").unwrap().1;
        if step < 4 {
            first.push(term)
        }
        if step >= 36 {
            last.push(term)
        }
        assert!(l.generator.is_finite() && l.discriminator.is_finite());
        if step < 10 {
            assert_eq!(l.discriminator, 0.0, "no D during warm-up");
            assert!(l.terms.iter().all(|(k, _)| *k != "adversarial"));
        } else {
            assert!(l.terms.iter().any(|(k, _)| *k == "adversarial"));
        }
    }
    let after = l1(&t.generate(&eval.photos, 2, 16, 16), &eval.teacher);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    eprintln!("held-out L1 {before:.4} -> {after:.4}; train term {:.4} -> {:.4}", mean(&first), mean(&last));
    assert!(after < before * 0.8, "held-out L1 {before} -> {after}");
    assert!(mean(&last) < mean(&first) * 0.8);
}

/// Gradient difference of two `n`×3×`size`² images (host side, as `loss::gradient_difference`).
fn gradient_difference(a: &[f32], b: &[f32], size: usize) -> f64 {
    let (mut sum, mut count) = (0.0f64, 0usize);
    for plane in 0..a.len() / (size * size) {
        let at = |img: &[f32], x: usize, y: usize| img[plane * size * size + y * size + x];
        for y in 0..size {
            for x in 0..size {
                if x + 1 < size {
                    let d = (at(a, x + 1, y) - at(a, x, y)) - (at(b, x + 1, y) - at(b, x, y));
                    (sum, count) = (sum + d.abs() as f64, count + 1);
                }
                if y + 1 < size {
                    let d = (at(a, x, y + 1) - at(a, x, y)) - (at(b, x, y + 1) - at(b, x, y));
                    (sum, count) = (sum + d.abs() as f64, count + 1);
                }
            }
        }
    }
    sum / count as f64
}

/// `--weight teacher_edges=W` in teacher mode: the border term is logged beside the L1, and
/// the generator trained with it matches the teacher's steps (on held-out crops) better than
/// the same run without it.
#[test]
fn teacher_edges_term_is_logged_and_learnt() {
    let eval = batch(Mode::Teacher, 2, 16, 999);
    let held_out = |edges: f64| {
        let mut cfg = TrainConfig { warmup_steps: 60, ..config(Mode::Teacher) };
        cfg.weights.teacher_edges = edges;
        let mut t = Trainer::new(cfg).unwrap();
        for step in 0..60u64 {
            let l = t.step(step, &batch(Mode::Teacher, 2, 16, step % 8)).unwrap();
            let logged = l.terms.iter().any(|(k, _)| *k == "teacher_edges");
            assert_eq!(logged, edges > 0.0, "the border term is logged when (and only when) it is on");
        }
        gradient_difference(&t.generate(&eval.photos, 2, 16, 16), &eval.teacher, 16)
    };
    let (without, with) = (held_out(0.0), held_out(20.0));
    eprintln!("held-out gradient difference: without {without:.4}, with teacher_edges {with:.4}");
    assert!(with < without * 0.95, "without {without}, with {with}");
}

#[test]
fn resume_is_bit_identical() {
    let cfg = config(Mode::Teacher); // warm-up 2: D and the adversarial term are exercised
    let batches: Vec<Batch> = (0..6).map(|s| batch(Mode::Teacher, 2, 16, s)).collect();

    let mut a = Trainer::new(cfg.clone()).unwrap();
    let mut losses_a = Vec::new();
    for (s, b) in batches.iter().enumerate() {
        losses_a.push(a.step(s as u64, b).unwrap());
    }

    let dir = tempfile::tempdir().unwrap();
    let ck = dir.path().join("ck");
    let mut b = Trainer::new(cfg.clone()).unwrap();
    for (s, bt) in batches.iter().enumerate().take(3) {
        b.step(s as u64, bt).unwrap();
    }
    b.save_checkpoint(&ck, 3).unwrap();
    // saving again replaces the older checkpoint safely
    b.save_checkpoint(&ck, 3).unwrap();
    drop(b);
    let (mut b, step) = Trainer::load_checkpoint(&ck).unwrap();
    assert_eq!(step, 3);
    assert_eq!(b.config(), &cfg);
    let mut losses_b = Vec::new();
    for (s, batch) in batches.iter().enumerate().skip(3) {
        losses_b.push(b.step(s as u64, batch).unwrap());
    }
    assert!(losses_a[3..].iter().all(|l| l.discriminator > 0.0), "D is trained in the resumed part");
    assert_eq!(&losses_a[3..], &losses_b[..], "losses after resume");
    assert_eq!(a.generator_weights(), b.generator_weights(), "weights after resume");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("ck")], "no temp dirs left behind");

    // the same config twice is deterministic from scratch too
    let mut c = Trainer::new(cfg).unwrap();
    for (s, bt) in batches.iter().enumerate() {
        c.step(s as u64, bt).unwrap();
    }
    assert_eq!(a.generator_weights(), c.generator_weights());
}

/// Naive reference of spec.rs: zero-padded conv, NCHW, weights OIHW.
fn conv_ref(
    x: &[f32],
    c: usize,
    h: usize,
    w: usize,
    cw: &animestyle_train::model::spec::ConvWeights,
) -> (Vec<f32>, usize, usize) {
    let s = &cw.spec;
    let (k, st, g, o) = (s.kernel, s.stride, s.groups, s.out_channels);
    assert_eq!(c, s.in_channels);
    let p = k / 2;
    let (oh, ow) = ((h + 2 * p - k) / st + 1, (w + 2 * p - k) / st + 1);
    let (cin_g, cout_g) = (c / g, o / g);
    let mut y = vec![0f32; o * oh * ow];
    for oc in 0..o {
        let grp = oc / cout_g;
        for oy in 0..oh {
            for ox in 0..ow {
                let mut acc = cw.bias[oc];
                for ic in 0..cin_g {
                    let icg = grp * cin_g + ic;
                    for ky in 0..k {
                        for kx in 0..k {
                            let iy = (oy * st + ky) as isize - p as isize;
                            let ix = (ox * st + kx) as isize - p as isize;
                            if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                                continue;
                            }
                            let wv = cw.weight[((oc * cin_g + ic) * k + ky) * k + kx];
                            acc += wv * x[(icg * h + iy as usize) * w + ix as usize];
                        }
                    }
                }
                y[(oc * oh + oy) * ow + ox] = acc;
            }
        }
    }
    (y, oh, ow)
}

fn forward_ref(weights: &GeneratorWeights, img: &[f32], h: usize, w: usize) -> Vec<f32> {
    let (mut x, mut c, mut h, mut w) = (img.to_vec(), 3, h, w);
    let mut block_in: Option<Vec<f32>> = None;
    for cw in &weights.convs {
        if cw.spec.upsample_before {
            let mut u = vec![0f32; c * 4 * h * w];
            for ch in 0..c {
                for y in 0..2 * h {
                    for xx in 0..2 * w {
                        u[(ch * 2 * h + y) * 2 * w + xx] = x[(ch * h + y / 2) * w + xx / 2];
                    }
                }
            }
            x = u;
            h *= 2;
            w *= 2;
        }
        if cw.spec.name.ends_with(".expand") {
            block_in = Some(x.clone());
        }
        let (y, oh, ow) = conv_ref(&x, c, h, w, cw);
        x = match cw.spec.activation {
            Activation::LeakyRelu => y.into_iter().map(|v| if v < 0.0 { v * LEAKY_SLOPE as f32 } else { v }).collect(),
            Activation::Tanh => y.into_iter().map(f32::tanh).collect(),
            Activation::ResidualAdd => y.iter().zip(block_in.take().unwrap()).map(|(a, b)| a + b).collect(),
        };
        c = cw.spec.out_channels;
        h = oh;
        w = ow;
    }
    x
}

#[test]
fn exported_weights_reproduce_the_forward() {
    let mut cfg = config(Mode::Teacher);
    cfg.generator = GeneratorConfig { c1: 4, c2: 8, c3: 8, blocks: 2, expand: 2, space_to_depth: 0 };
    let mut t = Trainer::new(cfg).unwrap();
    // a few steps so biases are non-zero and the layout of trained weights is checked
    for s in 0..3 {
        t.step(s, &batch(Mode::Teacher, 2, 16, s)).unwrap();
    }
    let weights = t.generator_weights();
    assert_eq!(weights.convs.len(), weights.config.layers().len());
    for (cw, spec) in weights.convs.iter().zip(weights.config.layers()) {
        assert_eq!(cw.spec, spec);
        assert_eq!(cw.weight.len(), spec.weight_len());
        assert_eq!(cw.bias.len(), spec.out_channels);
    }
    assert!(weights.convs.iter().any(|c| c.bias.iter().any(|b| *b != 0.0)));
    for (h, w) in [(8, 12), (16, 16)] {
        let img: Vec<f32> = image(5, 16).into_iter().collect::<Vec<_>>();
        // crop/reshape the procedural 16×16 image to h×w
        let mut x = vec![0f32; 3 * h * w];
        for c in 0..3 {
            for y in 0..h {
                for xx in 0..w {
                    x[(c * h + y) * w + xx] = img[(c * 16 + y) * 16 + xx];
                }
            }
        }
        let ours = t.generator_forward_for_test(&x, 1, h, w);
        let reference = forward_ref(&weights, &x, h, w);
        assert_eq!(ours.len(), reference.len());
        let max = ours.iter().zip(&reference).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(max <= 1e-4, "{h}×{w}: max |diff| {max}");
    }
}

#[test]
fn checkpoint_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let e = Trainer::load_checkpoint(&missing).err().unwrap().to_string();
    assert!(e.contains("does not exist"), "{e}");

    let a_dir = dir.path().join("a");
    let b_dir = dir.path().join("b");
    let a = Trainer::new(config(Mode::Teacher)).unwrap();
    let mut cb = config(Mode::Teacher);
    cb.generator.c1 = 6;
    let b = Trainer::new(cb).unwrap();
    a.save_checkpoint(&a_dir, 0).unwrap();
    b.save_checkpoint(&b_dir, 0).unwrap();
    std::fs::copy(b_dir.join("generator.bpk"), a_dir.join("generator.bpk")).unwrap();
    let e = format!("{:#}", Trainer::load_checkpoint(&a_dir).err().unwrap());
    assert!(e.contains("holds a generator of another architecture"), "{e}");
    assert!(!e.contains('\n'), "one line: {e}");

    std::fs::write(b_dir.join("checkpoint.json"), b"{ not json").unwrap();
    let e = format!("{:#}", Trainer::load_checkpoint(&b_dir).err().unwrap());
    assert!(e.contains("corrupt"), "{e}");

    let c_dir = dir.path().join("c");
    a.save_checkpoint(&c_dir, 0).unwrap();
    std::fs::write(c_dir.join("discriminator.bpk"), b"garbage").unwrap();
    let e = format!("{:#}", Trainer::load_checkpoint(&c_dir).err().unwrap());
    assert!(e.contains("corrupt"), "{e}");
}

#[test]
fn anime_step_reports_its_terms() {
    let mut t = Trainer::new(TrainConfig { warmup_steps: 1, ..config(Mode::Anime) }).unwrap();
    let b = batch(Mode::Anime, 2, 16, 3);
    let warm = t.step(0, &b).unwrap();
    let names: Vec<&str> = warm.terms.iter().map(|(k, _)| *k).collect();
    assert_eq!(names, ["content"]);
    assert_eq!(warm.discriminator, 0.0);
    let l = t.step(1, &b).unwrap();
    let names: Vec<&str> = l.terms.iter().map(|(k, _)| *k).collect();
    assert_eq!(names, ["adversarial", "content", "style", "color", "tv"]);
    assert!(l.discriminator > 0.0 && l.discriminator.is_finite());
    let sum: f64 = l.terms.iter().map(|(_, v)| v).sum();
    assert!((sum - l.generator).abs() < 1e-4 * (1.0 + sum.abs()), "{sum} vs {}", l.generator);
}

#[test]
fn vgg19_missing_file_is_a_clear_error() {
    let cfg = TrainConfig { vgg19: Some("/nonexistent/vgg19.pth".into()), ..config(Mode::Anime) };
    let e = format!("{:#}", Trainer::new(cfg).err().unwrap());
    assert!(e.contains("does not exist"), "{e}");
}

#[test]
fn default_config_is_documented_values() {
    let c = TrainConfig::default();
    assert_eq!(c.mode, Mode::Teacher);
    assert_eq!((c.batch, c.crop, c.seed, c.warmup_steps), (4, 128, 0, 50));
    assert_eq!(c.weights.teacher_l1, 10.0);
}

#[test]
fn vgg19_safetensors_in_torchvision_layout_loads() {
    use animestyle_train::model::vgg::Vgg19;
    // torchvision vgg19.features indices of conv1_1 … conv4_4, then conv5_1 and a classifier
    // layer that must be ignored.
    let idx = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28];
    let ch = [64, 64, 128, 128, 256, 256, 256, 256, 512, 512, 512, 512, 512];
    let mut tensors = Vec::new();
    let mut cin = 3;
    for (j, (&i, &c)) in idx.iter().zip(&ch).enumerate() {
        let n = c * cin * 9;
        let w: Vec<f32> = (0..n).map(|k| ((k * 7 + j * 13) % 101) as f32 * 1e-4 - 0.005).collect();
        tensors.push((format!("features.{i}.weight"), vec![c, cin, 3, 3], w));
        tensors.push((format!("features.{i}.bias"), vec![c], (0..c).map(|k| k as f32 * 1e-3 + j as f32).collect()));
        cin = c;
    }
    tensors.push(("classifier.0.weight".into(), vec![4, 8], vec![0.5; 32]));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vgg19.safetensors");
    support::write_safetensors(&path, &tensors);

    let device = burn::tensor::Device::flex();
    let vgg = Vgg19::load(&path, &device).unwrap();
    assert_eq!(vgg.convs.len(), 12);
    for (j, conv) in vgg.convs.iter().enumerate() {
        let b = conv.bias.val().into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
        assert_eq!(b, tensors[2 * j + 1].2, "conv {j} bias (features.{})", idx[j]);
        let w = conv.weight.val().into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
        assert_eq!(w, tensors[2 * j].2, "conv {j} weight");
    }

    let cfg = TrainConfig { vgg19: Some(path), warmup_steps: 0, ..config(Mode::Anime) };
    let mut t = Trainer::new(cfg).unwrap();
    let l = t.step(0, &batch(Mode::Anime, 2, 16, 1)).unwrap();
    assert!(l.generator.is_finite());
}

/// The stability term is reported under its name, is a pure function of (seed, step), and
/// training on it alone makes the generator's output consistent under shift + noise.
#[test]
fn stability_term_is_deterministic_and_trains_shift_consistency() {
    let cfg = TrainConfig {
        crop: 32,
        warmup_steps: 1000,
        weights: LossWeights { teacher_l1: 0.0, stability: 10.0, ..LossWeights::teacher() },
        ..config(Mode::Teacher)
    };
    let stability = |l: &animestyle_train::train::StepLosses| {
        l.terms.iter().find(|(k, _)| *k == "stability").expect("a stability term").1
    };
    let b = batch(Mode::Teacher, 2, 32, 1);
    let mut t = Trainer::new(cfg.clone()).unwrap();
    let first = t.step(0, &b).unwrap();
    assert_eq!(Trainer::new(cfg.clone()).unwrap().step(0, &b).unwrap(), first, "deterministic");
    assert!(stability(&first) > 0.0 && stability(&first).is_finite(), "{first:?}");
    let mut last = first.clone();
    for s in 1..40 {
        last = t.step(s, &batch(Mode::Teacher, 2, 32, s)).unwrap();
    }
    assert!(stability(&last) < 0.5 * stability(&first), "first {first:?}, last {last:?}");

    let small = TrainConfig { crop: 16, ..cfg };
    let err = Trainer::new(small).unwrap().step(0, &batch(Mode::Teacher, 2, 16, 0)).unwrap_err().to_string();
    assert!(err.contains("crops larger than"), "{err}");
}

/// `--init-from`: a new run starts from another run's trained networks; a different
/// architecture is refused with a message that says what to do.
#[test]
fn init_from_copies_another_runs_networks() {
    let cfg = config(Mode::Teacher);
    let mut a = Trainer::new(cfg.clone()).unwrap();
    for s in 0..3 {
        a.step(s, &batch(Mode::Teacher, 2, 16, s)).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let ck = dir.path().join("ck");
    a.save_checkpoint(&ck, 3).unwrap();
    let mut b = Trainer::new(TrainConfig { seed: 99, ..cfg.clone() }).unwrap();
    assert_ne!(b.generator_weights(), a.generator_weights());
    b.init_networks_from(&ck).unwrap();
    assert_eq!(b.generator_weights(), a.generator_weights());
    let mut c = Trainer::new(TrainConfig { generator: GeneratorConfig { c1: 6, ..tiny() }, ..cfg }).unwrap();
    let err = c.init_networks_from(&ck).unwrap_err().to_string();
    assert!(err.contains("same architecture"), "{err}");
}
