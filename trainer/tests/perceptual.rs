//! Pretrained perceptual features: VGG16 loading and its errors, LPIPS-VGG against the numpy
//! reference `make weights` writes, and anime-mode training with `--perceptual`.
//!
//! The weight tests need `data/weights/vgg16.safetensors` and `lpips-reference.json` (from
//! `make weights`, which `make test` runs first); without them they fail and say so.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use animestyle_train::config::{Mode, TrainConfig};
use animestyle_train::model::lpips::Lpips;
use animestyle_train::model::vgg::{VGG16_TAP_CHANNELS, Vgg16, imagenet_normalize, lpips_scale};
use burn::tensor::{Device, Tensor, TensorData};

const BIN: &str = env!("CARGO_BIN_EXE_animestyle-train");
const SIZE: u32 = 64;

fn weights_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/weights")
}

/// The downloaded weight file; panics (never skips) with the fix when it is missing.
fn weights(name: &str) -> PathBuf {
    let path = weights_dir().join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `make weights` (scripts/fetch-vgg16.sh) to fetch the VGG16/LPIPS weights \
         this test needs (`make test` does it first)",
        path.display()
    );
    path
}

// ---- the fixed image pairs of scripts/convert-vgg16.py (same integer formulas) ----

fn pattern_checker(x: u32, y: u32, c: u32) -> u32 {
    (x * 4 + y * 2 + 85 * c + 64 * ((x / 8 + y / 8) % 2)) % 256
}

fn pattern_disc(x: u32, y: u32, c: u32) -> u32 {
    let (dx, dy) = (x as i32 - 32, y as i32 - 28);
    if dx * dx + dy * dy < 400 {
        return [220, 120, 40][c as usize];
    }
    if y.is_multiple_of(9) { 20 } else { 40 + y * 2 + c * 30 }
}

fn noise(x: u32, y: u32, c: u32) -> i32 {
    ((x * 37 + y * 101 + c * 53 + x * y * 13) % 97 % 31) as i32 - 15
}

fn image(f: impl Fn(u32, u32, u32) -> i32) -> image::RgbImage {
    image::RgbImage::from_fn(SIZE, SIZE, |x, y| {
        image::Rgb([0, 1, 2].map(|c| {
            let v = f(x, y, c);
            assert!((0..=255).contains(&v), "pattern value {v} at {x},{y},{c}");
            v as u8
        }))
    })
}

fn pairs() -> Vec<(&'static str, image::RgbImage, image::RgbImage)> {
    let checker = image(|x, y, c| pattern_checker(x, y, c) as i32);
    let shifted = image(|x, y, c| pattern_checker((x + 3) % SIZE, (y + 2) % SIZE, c) as i32);
    let disc = image(|x, y, c| pattern_disc(x, y, c) as i32);
    let recoloured = image(|x, y, c| (pattern_disc(x, y, (c + 1) % 3) as i32 + noise(x, y, c)).clamp(0, 255));
    vec![("checker_vs_shifted", checker, shifted), ("disc_vs_recoloured_noised", disc, recoloured)]
}

#[test]
fn lpips_matches_the_numpy_reference_and_is_zero_for_identical_images() {
    let lpips = Lpips::load(&weights("vgg16.safetensors"), &Device::flex()).unwrap_or_else(|e| panic!("{e:#}"));
    let text = std::fs::read_to_string(weights("lpips-reference.json")).unwrap();
    let reference: serde_json::Value = serde_json::from_str(&text).unwrap();
    let expected = reference["pairs"].as_array().expect("pairs");
    let pairs = pairs();
    assert_eq!(expected.len(), pairs.len());
    for ((name, a, b), want) in pairs.iter().zip(expected) {
        assert_eq!(want["name"], *name, "lpips-reference.json is from another version of the pairs");
        let want = want["lpips"].as_f64().unwrap();
        let got = lpips.distance_rgb8(a, b).unwrap();
        println!("LPIPS-VGG {name}: {got:.8} (numpy reference {want:.8})");
        assert!((got - want).abs() < 1e-4, "{name}: LPIPS {got:.6}, numpy reference {want:.6}");
        assert!((0.1..0.8).contains(&got), "{name}: {got}");
        let same = lpips.distance_rgb8(a, a).unwrap();
        assert!(same.abs() < 1e-6, "{name}: LPIPS of an image with itself is {same}");
    }
    // Batched, per image: the same values in one call.
    let device = Device::flex();
    let stack = |imgs: Vec<&image::RgbImage>| {
        let n = imgs.len();
        let s = SIZE as usize;
        let mut v = vec![0f32; n * 3 * s * s];
        for (i, img) in imgs.iter().enumerate() {
            for (j, p) in img.as_raw().chunks_exact(3).enumerate() {
                for c in 0..3 {
                    v[(i * 3 + c) * s * s + j] = p[c] as f32 / 127.5 - 1.0;
                }
            }
        }
        Tensor::<4>::from_data(TensorData::new(v, [n, 3, s, s]), &device)
    };
    let a = stack(pairs.iter().map(|p| &p.1).collect());
    let b = stack(pairs.iter().map(|p| &p.2).collect());
    let d = lpips.distance(a, b).into_data().convert::<f32>().try_to_vec::<f32>().unwrap();
    for ((name, a, b), got) in pairs.iter().zip(d) {
        let single = lpips.distance_rgb8(a, b).unwrap();
        assert!((got as f64 - single).abs() < 1e-5, "{name}: batched {got}, single {single}");
    }
    // Bad inputs are errors, not panics.
    let small = image::RgbImage::new(8, 8);
    assert!(lpips.distance_rgb8(&small, &small).unwrap_err().to_string().contains("at least 16"));
    assert!(lpips.distance_rgb8(&pairs[0].1, &small).unwrap_err().to_string().contains("different sizes"));
}

#[test]
fn vgg16_taps_have_the_documented_shapes_and_stop_early() {
    let vgg = Vgg16::load(&weights("vgg16.safetensors"), &Device::flex()).unwrap_or_else(|e| panic!("{e:#}"));
    let x = Tensor::<4>::zeros([1, 3, 32, 48], &Device::flex());
    let taps = vgg.forward_taps(lpips_scale(x.clone()));
    for (i, (t, c)) in taps.iter().zip(VGG16_TAP_CHANNELS).enumerate() {
        assert_eq!(t.dims(), [1, c, 32 >> i, 48 >> i], "tap {i}");
    }
    let two = vgg.forward_taps_upto(imagenet_normalize(x), 2);
    assert_eq!(two.len(), 2);
    assert_eq!(two[1].dims(), [1, 128, 16, 24]);
}

/// Needs no downloaded weights: every file here is made up.
#[test]
fn vgg16_load_errors_name_the_problem_and_the_fix() {
    let device = Device::flex();
    let dir = tempfile::tempdir().unwrap();

    let missing = dir.path().join("nope/vgg16.safetensors");
    let e = format!("{:#}", Vgg16::load(&missing, &device).unwrap_err());
    assert!(e.contains("does not exist") && e.contains("nope/vgg16.safetensors"), "{e}");
    assert!(e.contains("make weights"), "{e}");
    let e = format!("{:#}", Lpips::load(&missing, &device).unwrap_err());
    assert!(e.contains("does not exist") && e.contains("make weights"), "{e}");

    // Not a safetensors file at all.
    let garbage = dir.path().join("garbage.safetensors");
    std::fs::write(&garbage, b"this is not a tensor file").unwrap();
    let e = format!("{:#}", Vgg16::load(&garbage, &device).unwrap_err());
    assert!(e.contains("cannot read") && e.contains("garbage.safetensors") && e.contains("make weights"), "{e}");

    // A VGG19-shaped file: torchvision vgg19 has no conv at features.17 / 24 / 26.
    let vgg19_index = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28];
    let tensors: Vec<_> = vgg19_index
        .iter()
        .flat_map(|i| {
            [
                (format!("features.{i}.weight"), vec![1, 1, 1, 1], vec![0.0]),
                (format!("features.{i}.bias"), vec![1], vec![0.0]),
            ]
        })
        .collect();
    let wrong = dir.path().join("vgg19.safetensors");
    support::write_safetensors(&wrong, &tensors);
    let e = format!("{:#}", Vgg16::load(&wrong, &device).unwrap_err());
    assert!(e.contains("not a torchvision VGG16 file"), "{e}");
    assert!(e.contains("features.17.weight") && e.contains("features.24.bias"), "{e}");
    assert!(!e.contains("convs."), "names the file's keys, not burn's: {e}");
    assert!(e.contains("make weights"), "{e}");

    // Every key, wrong shapes.
    let vgg16_index = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28];
    let tensors: Vec<_> = vgg16_index
        .iter()
        .flat_map(|i| {
            [
                (format!("features.{i}.weight"), vec![1, 1, 1, 1], vec![0.0]),
                (format!("features.{i}.bias"), vec![1], vec![0.0]),
            ]
        })
        .collect();
    let shapes = dir.path().join("shapes.safetensors");
    support::write_safetensors(&shapes, &tensors);
    let e = format!("{:#}", Vgg16::load(&shapes, &device).unwrap_err());
    assert!(e.contains("not a torchvision VGG16 file") && e.contains("has shape [1, 1, 1, 1]"), "{e}");
    assert!(e.contains("features."), "{e}");
    // LPIPS also needs the linear heads.
    let e = format!("{:#}", Lpips::load(&shapes, &device).unwrap_err());
    assert!(e.contains("missing lin0.weight"), "{e}");
}

#[test]
fn perceptual_and_vgg19_are_exclusive_and_old_configs_load() {
    let cfg = TrainConfig {
        mode: Mode::Anime,
        perceptual: Some("a.safetensors".into()),
        vgg19: Some("b.pth".into()),
        ..TrainConfig::default()
    };
    let e = animestyle_train::train::Trainer::new(cfg).err().unwrap().to_string();
    assert!(e.contains("--perceptual") && e.contains("--vgg19"), "{e}");

    // config.json written before `perceptual` existed.
    let mut old = serde_json::to_value(TrainConfig::default()).unwrap();
    old.as_object_mut().unwrap().remove("perceptual").expect("the field is serialised");
    let back: TrainConfig = serde_json::from_value(old).unwrap();
    assert_eq!(back, TrainConfig::default());

    let o = Command::new(BIN).args(["train", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(help.contains("--perceptual") && help.contains("make weights"), "{help}");
    let o = Command::new(BIN)
        .args(["train", "--out", "x", "--photos", "p", "--perceptual", "a", "--vgg19", "b"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot be used with"), "{o:?}");
}

/// A folder of `n` procedurally drawn PNGs, 96×80; `flat` ones look drawn (flat colours, lines).
fn folder(dir: &Path, name: &str, n: usize, flat: bool) -> PathBuf {
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder).unwrap();
    for i in 0..n {
        let img = image::RgbImage::from_fn(96, 80, |x, y| {
            let d = (x as i32 - 30 - 10 * i as i32).pow(2) + (y as i32 - 40).pow(2);
            if flat {
                if (300..360).contains(&d) || (x + 2 * y) % 23 == 0 {
                    image::Rgb([20, 20, 30])
                } else if d < 300 {
                    image::Rgb([240, 200, 170])
                } else {
                    image::Rgb([120, 170, 230])
                }
            } else if d < 300 {
                image::Rgb([220, 180 - 20 * i as u8, 60])
            } else {
                image::Rgb([(x * 2) as u8, (y * 3) as u8, (100 + 20 * i as u32 + (x * y) % 17) as u8])
            }
        });
        img.save(folder.join(format!("{name}{i}.png"))).unwrap();
    }
    folder
}

#[test]
fn anime_training_with_perceptual_has_finite_positive_content_and_style() {
    let w = weights("vgg16.safetensors");
    let dir = tempfile::tempdir().unwrap();
    let photos = folder(dir.path(), "photos", 3, false);
    let style = folder(dir.path(), "style", 3, true);
    let out = dir.path().join("run");
    #[rustfmt::skip]
    let args = [
        "train", "--mode", "anime", "--out", out.to_str().unwrap(),
        "--photos", photos.to_str().unwrap(), "--style", style.to_str().unwrap(),
        "--perceptual", w.to_str().unwrap(),
        "--c1", "4", "--c2", "8", "--c3", "8", "--blocks", "1", "--crop", "32", "--batch", "2",
        "--held-out", "1", "--steps", "3", "--warmup", "1", "--quiet",
    ];
    let o = Command::new(BIN).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("vgg16"), "the log names the feature net: {stderr}");
    let config = std::fs::read_to_string(out.join("config.json")).unwrap();
    assert!(config.contains("vgg16.safetensors"), "{config}");

    let csv = std::fs::read_to_string(out.join("losses.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("{name}: {csv}"));
    let (content, style) = (column("content"), column("style"));
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 3, "{csv}");
    for row in &rows {
        let c: f64 = row[content].parse().unwrap();
        assert!(c.is_finite() && c > 0.0, "content {c}: {csv}");
    }
    for row in &rows[1..] {
        let s: f64 = row[style].parse().unwrap();
        assert!(s.is_finite() && s > 0.0, "style {s}: {csv}");
    }
}

/// Teacher mode with `--weight teacher_content=W`: VGG16 is loaded, the feature term toward
/// the teacher is logged beside the L1 and is finite and positive; without `--perceptual` the
/// run is refused with the fix.
#[test]
fn teacher_mode_feature_loss_toward_the_teacher() {
    let w = weights("vgg16.safetensors");
    let dir = tempfile::tempdir().unwrap();
    let photos = folder(dir.path(), "photos", 3, false);
    let out = dir.path().join("run");
    #[rustfmt::skip]
    let args = [
        "train", "--mode", "teacher", "--out", out.to_str().unwrap(), "--photos", photos.to_str().unwrap(),
        "--c1", "4", "--c2", "8", "--c3", "8", "--blocks", "1", "--crop", "32", "--batch", "2",
        "--held-out", "1", "--steps", "3", "--warmup", "1", "--quiet", "--weight", "teacher_content=2",
    ];
    let o = Command::new(BIN).args(args).output().unwrap();
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("--perceptual data/weights/vgg16.safetensors"), "{stderr}");
    assert!(!out.join("config.json").exists(), "a refused run writes nothing");

    let o = Command::new(BIN).args(args).args(["--perceptual", w.to_str().unwrap()]).output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("vgg16"), "the log names the feature net: {stderr}");
    let csv = std::fs::read_to_string(out.join("losses.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("{name}: {csv}"));
    let (features, l1) = (column("teacher_content"), column("teacher_l1"));
    for row in csv.lines().skip(1) {
        let row: Vec<&str> = row.split(',').collect();
        let (f, l): (f64, f64) = (row[features].parse().unwrap(), row[l1].parse().unwrap());
        assert!(f.is_finite() && f > 0.0 && l.is_finite() && l > 0.0, "teacher_content {f}, teacher_l1 {l}: {csv}");
    }

    // Anime mode with the teacher: the term shares the output's features with `content`.
    let style = folder(dir.path(), "style", 3, true);
    let out = dir.path().join("anime");
    #[rustfmt::skip]
    let anime = [
        "train", "--mode", "anime", "--out", out.to_str().unwrap(), "--photos", photos.to_str().unwrap(),
        "--style", style.to_str().unwrap(), "--perceptual", w.to_str().unwrap(),
        "--c1", "4", "--c2", "8", "--c3", "8", "--blocks", "1", "--crop", "32", "--batch", "2",
        "--held-out", "1", "--steps", "2", "--warmup", "1", "--quiet",
        "--weight", "teacher_l1=5", "--weight", "teacher_content=2",
    ];
    let o = Command::new(BIN).args(anime).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(out.join("losses.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    for name in ["content", "teacher_content", "teacher_l1"] {
        let at = header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("{name}: {csv}"));
        for row in csv.lines().skip(1) {
            let v: f64 = row.split(',').nth(at).unwrap().parse().unwrap();
            assert!(v.is_finite() && v > 0.0, "{name} {v}: {csv}");
        }
    }
}

/// Anime-mode step time and loss-term magnitudes at init, fallback features vs VGG16, on real
/// folders (`PERCEPTUAL_PHOTOS`, `PERCEPTUAL_STYLE`; default data/photos and data/style from
/// `make data`), standard generator, after warm-up (every term on). Ignored by default:
/// `cargo test --release -p animestyle-train --test perceptual -- --ignored --nocapture`.
/// `PERCEPTUAL_BENCH=4x128,8x64` picks the batch × crop cases.
#[test]
#[ignore]
fn perceptual_step_time() {
    use animestyle_train::config::LossWeights;
    use animestyle_train::data::Dataset;
    use animestyle_train::model::spec::GeneratorConfig;
    use animestyle_train::teacher::TeacherParams;
    use animestyle_train::train::Trainer;
    use std::time::Instant;

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = |var: &str, default: &str| std::env::var(var).map(PathBuf::from).unwrap_or_else(|_| root.join(default));
    let (photos, style) = (dir("PERCEPTUAL_PHOTOS", "data/photos"), dir("PERCEPTUAL_STYLE", "data/style"));
    let (dataset, _) =
        Dataset::open(&[photos], &[style], Mode::Anime, &TeacherParams::default(), 0, 0).expect("data folders");
    let cases = std::env::var("PERCEPTUAL_BENCH").unwrap_or_else(|_| "4x128,4x96,2x128,8x64".into());
    let steps = 5;
    for case in cases.split(',') {
        let (n, size) = case.split_once('x').expect("NxSIZE");
        let (n, size): (usize, usize) = (n.parse().unwrap(), size.parse().unwrap());
        let mut per_net = Vec::new();
        for perceptual in [None, Some(weights("vgg16.safetensors"))] {
            let cfg = TrainConfig {
                mode: Mode::Anime,
                generator: GeneratorConfig { c1: 16, c2: 32, c3: 64, blocks: 6, expand: 2, space_to_depth: 0 },
                batch: n,
                crop: size,
                warmup_steps: 0,
                weights: LossWeights::anime(),
                perceptual: perceptual.clone(),
                ..TrainConfig::default()
            };
            let w = cfg.weights;
            let mut t = Trainer::new(cfg).unwrap();
            let first = t.step(0, &dataset.batch(0, 0, n, size)).unwrap(); // not timed
            let mut elapsed = 0.0;
            for s in 1..=steps {
                let b = dataset.batch(0, s, n, size);
                let start = Instant::now();
                t.step(s, &b).unwrap();
                elapsed += start.elapsed().as_secs_f64();
            }
            let per = elapsed / steps as f64;
            let raw =
                |name: &str, weight: f64| first.terms.iter().find(|(k, _)| *k == name).map_or(0.0, |t| t.1 / weight);
            let name = if perceptual.is_some() { "vgg16" } else { "fallback" };
            println!(
                "BENCH anime {name} {n}x{size}: {per:.2} s/step; at init (unweighted, style before any \
                 scale): content {:.4} style {:.6} color {:.4} tv {:.5} adversarial {:.4}",
                raw("content", w.content),
                raw("style", w.style * t.style_scale()),
                raw("color", w.color),
                raw("tv", w.tv),
                raw("adversarial", w.adversarial),
            );
            per_net.push(per);
        }
        println!("BENCH anime {n}x{size}: vgg16 / fallback = {:.2}×", per_net[1] / per_net[0]);
    }
}
