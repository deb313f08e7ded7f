//! `animestyle-train` as a user runs it: bad inputs, a run and its files, resume, Ctrl-C,
//! export, and the exported model inside the `animestyle` element.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod support;
use support::TINY;

const BIN: &str = env!("CARGO_BIN_EXE_animestyle-train");

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("animestyle-train runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// The single `error: …` line of a failed run.
fn error_line(o: &Output) -> String {
    let text = stderr(o);
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "exactly one error line expected in:\n{text}");
    errors[0].to_string()
}

/// A folder of `n` procedurally drawn photos (gradients, discs, stripes), 96×80 PNG.
fn photos(dir: &Path, n: usize) -> PathBuf {
    let folder = dir.join("photos");
    std::fs::create_dir_all(&folder).unwrap();
    for i in 0..n {
        let img = image::RgbImage::from_fn(96, 80, |x, y| {
            let (cx, cy) = (30 + 10 * i as i32, 40);
            let d = (x as i32 - cx).pow(2) + (y as i32 - cy).pow(2);
            if d < 300 {
                image::Rgb([220, 180 - 20 * i as u8, 60])
            } else if (x / 8 + y / 8 + i as u32).is_multiple_of(5) {
                image::Rgb([30, 60, 120])
            } else {
                image::Rgb([(x * 2) as u8, (y * 3) as u8, (100 + 20 * i) as u8])
            }
        });
        img.save(folder.join(format!("photo{i}.png"))).unwrap();
    }
    folder
}

fn train(out: &Path, photos: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["train", "--out", out.to_str().unwrap(), "--photos", photos.to_str().unwrap()];
    args.extend(TINY);
    args.extend(extra);
    run(&args)
}

#[test]
fn missing_and_empty_and_unreadable_photo_folders_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = train(&out, &dir.path().join("nope"), &["--steps", "2"]);
    assert!(!o.status.success());
    assert!(error_line(&o).contains("nope") && error_line(&o).contains("does not exist"), "{}", stderr(&o));

    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let o = train(&out, &empty, &["--steps", "2"]);
    assert!(!o.status.success());
    assert!(error_line(&o).contains("no images in photo folder"), "{}", stderr(&o));

    let junk = dir.path().join("junk");
    std::fs::create_dir_all(&junk).unwrap();
    std::fs::write(junk.join("broken.jpg"), b"not a jpeg").unwrap();
    let o = train(&out, &junk, &["--steps", "2"]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("warning: skipping") && e.contains("broken.jpg"), "{e}");
    assert!(error_line(&o).contains("no usable images"), "{e}");
    assert!(!out.exists(), "nothing is written for a run that cannot start");
}

#[test]
fn anime_mode_without_style_frames_says_what_to_pass() {
    let dir = tempfile::tempdir().unwrap();
    let p = photos(dir.path(), 3);
    let o = train(&dir.path().join("run"), &p, &["--steps", "2", "--mode", "anime"]);
    assert!(!o.status.success());
    assert!(error_line(&o).contains("--style"), "{}", stderr(&o));
}

#[test]
fn a_bad_loss_weight_names_the_losses_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = photos(dir.path(), 3);
    let out = dir.path().join("run");
    for (weight, expect) in [
        (
            "colour=2",
            "unknown loss `colour`; the losses are adversarial, content, style, color, tv, teacher_l1, stability, \
             teacher_edges, teacher_content",
        ),
        ("color", "is not NAME=VALUE"),
        ("style=lots", "the weight of `style` must be a number"),
        ("tv=-1", "must be finite and ≥ 0"),
    ] {
        let o = train(&out, &p, &["--steps", "2", "--weight", weight]);
        assert!(!o.status.success(), "--weight {weight} was accepted");
        assert!(stderr(&o).contains(expect), "--weight {weight}: {}", stderr(&o));
        assert!(!out.exists(), "nothing is written for --weight {weight}");
    }
}

#[test]
fn anime_mode_with_a_teacher_weight_learns_from_the_teacher_too() {
    let dir = tempfile::tempdir().unwrap();
    let p = photos(dir.path(), 4);
    let style = dir.path().join("style");
    std::fs::create_dir_all(&style).unwrap();
    for i in 0..2u8 {
        let img = image::RgbImage::from_fn(64, 64, |x, _| image::Rgb([if x < 32 { 250 } else { 40 * i }, 90, 200]));
        img.save(style.join(format!("s{i}.png"))).unwrap();
    }
    let out = dir.path().join("run");
    let style_arg = style.to_str().unwrap();
    let extra = ["--mode", "anime", "--style", style_arg, "--steps", "3", "--warmup", "1", "--sample-every", "3"];
    let o = train(
        &out,
        &p,
        &[&extra[..], &["--weight", "teacher_l1=4", "--weight", "color=0", "--weight", "teacher_edges=2"]].concat(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(out.join("losses.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    assert!(header.contains(&"teacher_l1"), "the teacher term is logged: {csv}");
    assert!(!header.contains(&"color"), "a weight of 0 switches the colour term off: {csv}");
    let col = header.iter().position(|h| *h == "teacher_l1").unwrap();
    let first: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    assert!(first[col].parse::<f64>().unwrap() > 0.0, "the teacher term runs from step 0 (warm-up too): {csv}");
    let edges = header.iter().position(|h| *h == "teacher_edges").expect("the border term is logged");
    assert!(first[edges].parse::<f64>().unwrap() > 0.0, "the border term runs beside the teacher's L1: {csv}");
    let config = std::fs::read_to_string(out.join("config.json")).unwrap();
    assert!(config.contains("\"teacher_l1\": 4.0") && config.contains("\"color\": 0.0"), "{config}");
    // The sample grid shows the teacher beside the generator, as in teacher mode: three tiles wide.
    let grid = image::open(out.join("samples/step-000003.png")).unwrap();
    let plain = dir.path().join("plain");
    let o = train(&plain, &p, &extra);
    assert!(o.status.success(), "{}", stderr(&o));
    let plain_grid = image::open(plain.join("samples/step-000003.png")).unwrap();
    assert!(grid.width() > plain_grid.width(), "{} vs {}", grid.width(), plain_grid.width());
    let csv = std::fs::read_to_string(plain.join("losses.csv")).unwrap();
    assert!(!csv.lines().next().unwrap().contains("teacher_l1"), "no teacher term by default: {csv}");
}

#[test]
fn a_run_writes_its_files_skips_a_corrupt_image_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let p = photos(dir.path(), 4);
    std::fs::write(p.join("corrupt.png"), b"\x89PNG broken").unwrap();
    let out = dir.path().join("run");
    let o = train(&out, &p, &["--steps", "4", "--warmup", "2", "--sample-every", "2", "--checkpoint-every", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stderr(&o).matches("warning: skipping").count(), 1, "{}", stderr(&o));
    for f in [
        "config.json",
        "data-summary.json",
        "losses.csv",
        "loss-curve.png",
        "samples/step-000002.png",
        "samples/step-000004.png",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let summary = std::fs::read_to_string(out.join("data-summary.json")).unwrap();
    assert!(summary.contains("corrupt.png"), "the skipped file is recorded: {summary}");
    let csv = std::fs::read_to_string(out.join("losses.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 4, "{csv}");
    // The adversarial term starts after warm-up: it gets its own column, and every row has as
    // many fields as the header (empty before it started).
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    assert_eq!(header, ["step", "generator", "discriminator", "teacher_l1", "adversarial"], "{csv}");
    assert!(csv.lines().all(|l| l.split(',').count() == header.len()), "{csv}");
    let last: Vec<&str> = csv.lines().last().unwrap().split(',').collect();
    assert!(last.iter().all(|f| !f.is_empty()), "after warm-up every column has a value: {csv}");

    // Export: an unwritable path fails cleanly, a good one works.
    let o = run(&["export", "--run", out.to_str().unwrap(), "--out", "/nonexistent-dir/model.onnx"]);
    assert!(!o.status.success());
    assert!(error_line(&o).contains("/nonexistent-dir/model.onnx"), "{}", stderr(&o));
    let model = dir.path().join("model.onnx");
    let args = ["export", "--run", out.to_str().unwrap(), "--out", model.to_str().unwrap(), "--style", "test"];
    let o = run(&[&args[..], &["--inference-size", "96"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::metadata(&model).unwrap().len() > 1000);
    // The element reads the recommended inference size from the model.
    let session = gstanimestyle::session::Session::load(
        &gstanimestyle::session::ModelSource::File(model.clone()),
        &Default::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(session.contract.recommended_inference_size, Some(96));
    assert_eq!(session.contract.style.as_deref(), Some("test"));
    assert_eq!(session.contract.line_strength, Some(1.0), "our models ask for our ink by default");
    // The look it asks for is the exporter's choice, within what the element accepts.
    let o = run(&[&args[..], &["--line-strength", "0.5"]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let md: std::collections::HashMap<String, String> = std::collections::HashMap::from_iter(
        animestyle_model::onnx::read_metadata(&std::fs::read(&model).unwrap()).unwrap(),
    );
    assert_eq!(md.get("animestyle.line_strength").map(String::as_str), Some("0.5"));
    let o = run(&[&args[..], &["--line-strength", "3"]].concat());
    assert!(!o.status.success());
    assert!(stderr(&o).contains("0 to 2"), "{}", stderr(&o));
    assert_no_temporary_files(dir.path());
}

/// No half-written file (`*tmp*`) is left in `dir`.
fn assert_no_temporary_files(dir: &Path) {
    let leftovers: Vec<_> =
        std::fs::read_dir(dir).unwrap().flatten().filter(|e| e.file_name().to_string_lossy().contains("tmp")).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn checkpoint_bytes(run_dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(run_dir.join("checkpoint"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| (e.file_name().to_string_lossy().to_string(), std::fs::read(e.path()).unwrap()))
        .collect();
    files.sort();
    files
}

fn exported(run_dir: &Path, dir: &Path, name: &str) -> Vec<u8> {
    let model = dir.join(name);
    let o = run(&["export", "--run", run_dir.to_str().unwrap(), "--out", model.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::read(model).unwrap()
}

/// The ONNX initializers (weights) of an exported model, without the metadata (which names
/// the command line and so differs between runs).
fn weights_of(onnx: &[u8]) -> Vec<Vec<u8>> {
    use animestyle_model::onnx::{Message, ModelProto};
    let model = ModelProto::decode(onnx).unwrap();
    model.graph.unwrap().initializer.into_iter().map(|t| t.raw_data.unwrap_or_default()).collect()
}

#[test]
fn resume_gives_the_same_weights_as_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let p = photos(dir.path(), 3);
    let straight = dir.path().join("straight");
    let o = train(&straight, &p, &["--steps", "6", "--checkpoint-every", "3", "--warmup", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));

    let split = dir.path().join("split");
    let o = train(&split, &p, &["--steps", "3", "--checkpoint-every", "3", "--warmup", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = train(&split, &p, &["--steps", "6", "--checkpoint-every", "3", "--warmup", "2", "--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        weights_of(&exported(&straight, dir.path(), "a.onnx")),
        weights_of(&exported(&split, dir.path(), "b.onnx"))
    );
    assert_eq!(checkpoint_bytes(&straight).len(), checkpoint_bytes(&split).len());
    let csv = std::fs::read_to_string(split.join("losses.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 6, "{csv}");

    // Starting over in a used folder without --resume is refused.
    let o = train(&split, &p, &["--steps", "6"]);
    assert!(!o.status.success());
    assert!(error_line(&o).contains("--resume"), "{}", stderr(&o));
    // A different architecture cannot resume this checkpoint.
    let mut args =
        vec!["train", "--out", split.to_str().unwrap(), "--photos", p.to_str().unwrap(), "--resume", "--steps", "8"];
    args.extend(["--c1", "6", "--quiet"]);
    let o = run(&args);
    assert!(!o.status.success());
    assert!(error_line(&o).contains("another architecture"), "{}", stderr(&o));
}

#[test]
fn ctrl_c_saves_a_checkpoint_and_resume_finishes_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let p = photos(dir.path(), 3);
    let out = dir.path().join("run");
    let mut args: Vec<String> = ["train", "--out", out.to_str().unwrap(), "--photos", p.to_str().unwrap()]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(TINY.iter().map(|s| s.to_string()));
    args.extend(["--steps", "100000", "--checkpoint-every", "100000", "--sample-every", "100000"].map(String::from));
    let child = Command::new(BIN).args(&args).stderr(std::process::Stdio::piped()).spawn().unwrap();
    // Wait until training has started (the loss log exists), then interrupt.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !out.join("losses.csv").exists()
        || std::fs::read_to_string(out.join("losses.csv")).unwrap().lines().count() < 3
    {
        assert!(std::time::Instant::now() < deadline, "training did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    unsafe_sigint(child.id());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let text = stderr(&o);
    assert!(text.contains("interrupted: checkpoint saved"), "{text}");
    assert!(!checkpoint_bytes(&out).is_empty());
    // "… at step N in …": resume and finish two steps later.
    let at: u64 = text.split("at step ").nth(1).and_then(|t| t.split_whitespace().next()).unwrap().parse().unwrap();
    let target = (at + 2).to_string();
    let o = train(&out, &p, &["--steps", &target, "--resume"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(out.join("losses.csv")).unwrap();
    assert_eq!(csv.lines().count() as u64, 1 + at + 2, "one row per step, none repeated: {csv}");
}

fn unsafe_sigint(pid: u32) {
    let status = Command::new("kill").args(["-INT", &pid.to_string()]).status().unwrap();
    assert!(status.success());
}

#[test]
fn a_gpu_backend_that_is_not_built_in_says_how_to_get_it() {
    let dir = tempfile::tempdir().unwrap();
    let p = photos(dir.path(), 2);
    let o = train(&dir.path().join("run"), &p, &["--steps", "1", "--backend", "cuda"]);
    if cfg!(feature = "cuda") {
        return; // built with CUDA: the error would be about the driver instead
    }
    assert!(!o.status.success());
    assert!(error_line(&o).contains("--features cuda"), "{}", stderr(&o));
}

#[test]
fn metadata_shows_sets_and_removes_the_look_keeping_the_weights() {
    let dir = tempfile::tempdir().unwrap();
    let bundled = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/animestyle-handmade.onnx");
    let model = dir.path().join("m.onnx");
    std::fs::copy(bundled, &model).unwrap();
    let original = std::fs::read(&model).unwrap();
    let m = model.to_str().unwrap();

    let o = run(&["metadata", m]);
    assert!(o.status.success(), "{}", stderr(&o));
    let shown = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(shown.lines().any(|l| l == "animestyle.line_strength=1"), "{shown}");
    assert_eq!(std::fs::read(&model).unwrap(), original, "showing changes nothing");

    // --out leaves the original alone; the copy has the new value and the same weights.
    let copy = dir.path().join("copy.onnx");
    let o = run(&["metadata", m, "--set", "animestyle.line_strength=0.25", "--out", copy.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(&model).unwrap(), original);
    let edited = std::fs::read(&copy).unwrap();
    assert_eq!(weights_of(&edited), weights_of(&original));
    let load = |p: &Path| {
        gstanimestyle::session::Session::load(
            &gstanimestyle::session::ModelSource::File(p.to_path_buf()),
            &Default::default(),
        )
        .unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(load(&copy).contract.line_strength, Some(0.25));

    // Removed in place: the element then draws no ink of its own over this model.
    let o = run(&["metadata", m, "--remove", "animestyle.line_strength"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(load(&model).contract.line_strength, None);
    assert_eq!(weights_of(&std::fs::read(&model).unwrap()), weights_of(&original));

    // A value the element would refuse is refused here, naming the key and the range; nothing written.
    let before = std::fs::read(&model).unwrap();
    let o = run(&["metadata", m, "--set", "animestyle.line_strength=5"]);
    assert!(!o.status.success());
    let e = error_line(&o);
    assert!(e.contains("animestyle.line_strength") && e.contains("0 to 2") && e.contains("nothing was written"), "{e}");
    assert_eq!(std::fs::read(&model).unwrap(), before);
    let o = run(&["metadata", m, "--set", "no-equals-sign"]);
    assert!(!o.status.success());
    assert!(error_line(&o).contains("is not NAME=VALUE"), "{}", stderr(&o));

    // Not a model: a clear error naming the file.
    let junk = dir.path().join("junk.onnx");
    std::fs::write(&junk, b"not a model").unwrap();
    let o = run(&["metadata", junk.to_str().unwrap(), "--set", "a=b"]);
    assert!(!o.status.success());
    assert!(error_line(&o).contains("junk.onnx"), "{}", stderr(&o));
    assert_no_temporary_files(dir.path());
}
