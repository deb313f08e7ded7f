//! `animestyle-train evaluate` as a user runs it: the report folder it writes, and the clear
//! errors for a missing model, an empty folder, an unreadable image and a bad property.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod support;
use support::TINY;

const BIN: &str = env!("CARGO_BIN_EXE_animestyle-train");
const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn model() -> String {
    format!("{ROOT}/models/animestyle-cel.onnx")
}

fn weights() -> PathBuf {
    let p = Path::new(ROOT).join("data/weights/vgg16.safetensors");
    assert!(p.is_file(), "{} is missing: run `make weights` (make test does)", p.display());
    p
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).current_dir(ROOT).args(args).output().expect("animestyle-train runs")
}

fn error_line(o: &Output) -> String {
    let text = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(!o.status.success(), "expected a failure, got success:\n{text}");
    text.lines().find(|l| l.starts_with("error: ")).unwrap_or_else(|| panic!("no error line in:\n{text}")).to_string()
}

/// `n` procedurally drawn "photos" (gradients, a disc, stripes) of 160×120 in `dir/name`.
fn images(dir: &Path, name: &str, n: usize, stripes: u32) -> PathBuf {
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder).unwrap();
    for i in 0..n as u32 {
        let img = image::RgbImage::from_fn(160, 120, |x, y| {
            let d = (x as i32 - 60 - 10 * i as i32).pow(2) + (y as i32 - 60).pow(2);
            if d < 900 {
                image::Rgb([230, 170 - 30 * i as u8, 50])
            } else if (x / stripes + y / stripes + i).is_multiple_of(4) {
                image::Rgb([20, 40, 110])
            } else {
                image::Rgb([(x + 40 * i) as u8, (y * 2) as u8, 140])
            }
        });
        img.save(folder.join(format!("img{i}.png"))).unwrap();
    }
    folder
}

#[test]
fn evaluate_writes_the_report_with_every_measure() {
    let dir = tempfile::tempdir().unwrap();
    let photos = images(dir.path(), "photos", 2, 6);
    let style = images(dir.path(), "style", 3, 3);
    let probe_photos = images(dir.path(), "probe-photos", 3, 7);
    let probe_drawings = images(dir.path(), "probe-drawings", 3, 2);
    let out = dir.path().join("report");
    let weights = weights();
    let o = run(&[
        "evaluate",
        "--model",
        &format!("cel={}", model()),
        "--model",
        &format!("cel stills={}", model()),
        "--stills-only",
        "cel stills",
        "--probe-photos",
        probe_photos.to_str().unwrap(),
        "--probe-drawings",
        probe_drawings.to_str().unwrap(),
        "--save-frames",
        "--teacher",
        "--photos",
        photos.to_str().unwrap(),
        "--style",
        style.to_str().unwrap(),
        "--perceptual",
        weights.to_str().unwrap(),
        "--frame",
        "320x180",
        "--temporal-frames",
        "6",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "evaluate failed:\n{}", String::from_utf8_lossy(&o.stderr));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    for needle in ["| cel |", "| teacher |", "| input |", "FD-VGG16", "not comparable with published FID", "img1.png"] {
        assert!(md.contains(needle), "report.md lacks {needle:?}:\n{md}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let models = json["models"].as_array().unwrap();
    let row = |label: &str| models.iter().find(|m| m["label"] == label).unwrap_or_else(|| panic!("no {label} row"));
    // The input row is the reference: identical drawing, no LPIPS distance.
    let input = row("input");
    assert!((input["look"]["structure"].as_f64().unwrap() - 1.0).abs() < 1e-6);
    assert!(input["lpips"].as_f64().unwrap().abs() < 1e-6);
    // A stylization changes the picture: structure below 1, LPIPS above 0, a finite FD.
    let cel = row("cel");
    assert!(cel["look"]["structure"].as_f64().unwrap() < 0.99, "{cel}");
    assert!(cel["lpips"].as_f64().unwrap() > 0.01, "{cel}");
    assert!(cel["fd_vgg16"].as_f64().unwrap().is_finite());
    assert!(cel["kid"][1].as_f64().unwrap() >= 0.0);
    assert!(cel["temporal"]["flicker"].as_f64().unwrap().is_finite());
    assert!(cel["ms_per_frame"].as_f64().unwrap() > 0.0);
    // --stills-only: the same model, measured on the stills, no temporal sequences.
    let stills = row("cel stills");
    assert!(stills["temporal"].is_null() && stills["ms_per_frame"].is_null(), "{stills}");
    let structure = |m: &serde_json::Value| m["look"]["structure"].as_f64().unwrap();
    assert!((structure(stills) - structure(cel)).abs() < 1e-3, "{stills}");
    // Drawn-ness: for every row and for the style set itself, a probability and two shares.
    for m in models.iter().chain([&json["reference_drawn"]]) {
        let d = if m.get("drawn").is_some() { &m["drawn"] } else { m };
        let p = d["p_drawing"].as_f64().unwrap_or_else(|| panic!("no P(drawing) in {m}"));
        assert!((0.0..=1.0).contains(&p), "{m}");
        assert!(d["crispness"].as_f64().unwrap() >= 0.0 && d["ink_share"].as_f64().unwrap() >= 0.0, "{m}");
    }
    for needle in ["## Drawn-ness", "*held-out drawings (the style set)*", "P(drawing)", "thin dark strokes"] {
        assert!(md.contains(needle), "report.md lacks {needle:?}:\n{md}");
    }
    // --save-frames: one PNG per image for every row, the input first.
    for folder in ["00-input", "01-cel", "02-cel_stills", "03-teacher"] {
        for img in ["img0.png", "img1.png"] {
            let f = out.join("frames").join(folder).join(img);
            let (w, h) = image::image_dimensions(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            assert_eq!((w, h), (320, 180), "{}", f.display());
        }
    }
    for png in ["charts.png", "grid.png", "crops.png"] {
        let img = image::open(out.join(png)).unwrap_or_else(|e| panic!("{png}: {e}"));
        assert!(img.width() > 100 && img.height() > 100, "{png} is {}x{}", img.width(), img.height());
    }
    // grid.png: one row per image (2), input | cel | cel stills | teacher, 256-px tiles of 16:9 frames.
    let grid = image::open(out.join("grid.png")).unwrap();
    assert!(grid.width() >= 4 * 256 && grid.width() < 5 * 256, "grid is {} wide", grid.width());
    assert!(grid.height() >= 2 * 144 && grid.height() < 3 * 144, "grid is {} high", grid.height());
}

/// The error line of `evaluate <models...> --photos <photos> --out <dir>/r`, and that no report
/// was written.
fn evaluate_error(dir: &Path, models: &[&str], photos: &Path) -> String {
    let out = dir.join("r");
    let mut args = vec!["evaluate"];
    args.extend_from_slice(models);
    args.extend(["--photos", photos.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let e = error_line(&run(&args));
    assert!(!out.exists(), "no report for a failed run");
    e
}

#[test]
fn a_missing_model_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let photos = images(dir.path(), "photos", 1, 6);
    let e = evaluate_error(dir.path(), &["--model", "/nonexistent/model.onnx"], &photos);
    assert!(e.contains("/nonexistent/model.onnx") && e.contains("does not exist"), "{e}");
}

#[test]
fn an_empty_folder_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let e = evaluate_error(dir.path(), &["--model", &model()], &empty);
    assert!(e.contains(empty.to_str().unwrap()) && e.contains("holds no images"), "{e}");
}

#[test]
fn an_unreadable_image_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let photos = images(dir.path(), "photos", 1, 6);
    std::fs::write(photos.join("broken.jpg"), b"not a jpeg at all").unwrap();
    let e = evaluate_error(dir.path(), &["--model", &model()], &photos);
    assert!(e.contains("broken.jpg") && e.contains("cannot read"), "{e}");
}

#[test]
fn an_unknown_property_is_named_with_the_valid_ones() {
    let dir = tempfile::tempdir().unwrap();
    let photos = images(dir.path(), "photos", 1, 6);
    let e = evaluate_error(dir.path(), &["--embedded", "--set", "sharpen=2"], &photos);
    assert!(e.contains("'sharpen'") && e.contains("strength"), "{e}");
}

#[test]
fn probe_and_stills_only_mistakes_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let photos = images(dir.path(), "photos", 1, 6);
    let e = evaluate_error(dir.path(), &["--model", &model(), "--stills-only", "nobody"], &photos);
    assert!(e.contains("--stills-only nobody") && e.contains("no --model is labelled 'nobody'"), "{e}");
    let drawings = photos.to_str().unwrap();
    let e = evaluate_error(
        dir.path(),
        &["--model", &model(), "--probe-photos", drawings, "--probe-drawings", drawings],
        &photos,
    );
    assert!(e.contains("need --perceptual") && e.contains("make weights"), "{e}");
    // One half of the probe without the other is refused by the argument parser.
    let o =
        run(&["evaluate", "--model", &model(), "--photos", drawings, "--probe-photos", drawings, "--out", "/tmp/x"]);
    let text = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && text.contains("--probe-drawings"), "{text}");
}

#[test]
fn training_logs_fd_and_the_look_at_each_sample_step_and_resumes_the_curve() {
    let dir = tempfile::tempdir().unwrap();
    let photos = images(dir.path(), "photos", 3, 6);
    let style = images(dir.path(), "style", 3, 3);
    let held_out = images(dir.path(), "held-out", 2, 5);
    let run_dir = dir.path().join("run");
    let weights = weights();
    let train = |out: &std::path::Path, steps: &str, extra: &[&str]| {
        let mut args = vec![
            "train",
            "--mode",
            "anime",
            "--out",
            out.to_str().unwrap(),
            "--photos",
            photos.to_str().unwrap(),
            "--style",
            style.to_str().unwrap(),
            "--perceptual",
            weights.to_str().unwrap(),
            "--eval-style",
            style.to_str().unwrap(),
            "--eval-photos",
            held_out.to_str().unwrap(),
            "--steps",
            steps,
            "--sample-every",
            "1",
        ];
        args.extend(TINY);
        args.extend(extra);
        let o = run(&args);
        assert!(o.status.success(), "train failed:\n{}", String::from_utf8_lossy(&o.stderr));
    };
    let rows_of = |dir: &std::path::Path| -> (String, Vec<Vec<f64>>) {
        let csv = std::fs::read_to_string(dir.join("eval.csv")).unwrap();
        let rows = csv.lines().skip(1).map(|l| l.split(',').map(|v| v.parse().unwrap()).collect()).collect();
        (csv, rows)
    };
    train(&run_dir, "2", &[]);
    train(&run_dir, "3", &["--resume"]);
    let (csv, rows) = rows_of(&run_dir);
    assert_eq!(rows.iter().map(|r| r[0] as u64).collect::<Vec<_>>(), vec![1, 2, 3], "{csv}");
    // A fine-tune from that run starts its curve with a baseline at step 0: the networks it
    // was given, measured before any update — the same generator as the first run's step 3.
    let tuned = dir.path().join("tuned");
    train(&tuned, "1", &["--init-from", run_dir.to_str().unwrap(), "--warmup", "0"]);
    let (tuned_csv, tuned_rows) = rows_of(&tuned);
    assert_eq!(tuned_rows.iter().map(|r| r[0] as u64).collect::<Vec<_>>(), vec![0, 1], "{tuned_csv}");
    assert_eq!(tuned_rows[0][1..], rows[2][1..], "step 0 measures the starting networks:\n{tuned_csv}\n{csv}");
    for r in &rows {
        assert!(r[1].is_finite() && r[1] >= 0.0, "FD {csv}");
        assert!(r[4] > 0.0 && r[4] <= 1.0, "structure {csv}");
    }
    for png in ["eval-curve.png", "look-curve.png"] {
        assert!(image::open(run_dir.join(png)).is_ok(), "{png}");
    }
}
