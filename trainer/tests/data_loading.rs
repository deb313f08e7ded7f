//! Dataset loading, skipping, errors and deterministic batches.

use std::path::{Path, PathBuf};

use animestyle_train::config::Mode;
use animestyle_train::data::Dataset;
use animestyle_train::teacher::TeacherParams;
use image::{Rgb, RgbImage};

/// A picture with structure: coloured quadrants and a diagonal bar.
fn picture(w: u32, h: u32, seed: u8) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let q = (x * 2 / w) + 2 * (y * 2 / h);
        let base = [[200, 60, 40], [40, 160, 200], [230, 210, 90], [60, 120, 50]][q as usize];
        let bar = (x as i32 - y as i32).abs() < 6;
        Rgb(if bar { [20, 20, 20] } else { base.map(|v: u8| v.wrapping_add(seed)) })
    })
}

fn folder(root: &Path, name: &str, images: &[(&str, RgbImage)]) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    for (file, img) in images {
        img.save(dir.join(file)).unwrap();
    }
    dir
}

fn photos(root: &Path) -> PathBuf {
    let dir = folder(
        root,
        "photos",
        &[
            ("a.png", picture(160, 120, 0)),
            ("b.jpg", picture(200, 150, 10)),
            ("sub/c.png", picture(130, 180, 20)),
            ("d.webp", picture(96, 96, 30)),
            ("tiny.png", picture(40, 300, 0)),
        ],
    );
    std::fs::write(dir.join("broken.jpg"), b"not a jpeg").unwrap();
    std::fs::write(dir.join("notes.txt"), b"ignored").unwrap();
    dir
}

#[test]
fn teacher_mode_loads_skips_and_batches_deterministically() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = photos(tmp.path());
    let (ds, summary) =
        Dataset::open(std::slice::from_ref(&dir), &[], Mode::Teacher, &TeacherParams::default(), 1, 5).unwrap();
    assert_eq!(summary.photo_folders[0].found, 6);
    assert_eq!(summary.photo_folders[0].used, 4);
    assert_eq!(summary.photo_folders[0].skipped, 2);
    assert_eq!(summary.skipped.len(), 2);
    assert!(summary.skipped.iter().any(|s| s.path.ends_with("tiny.png") && s.reason.contains("64")));
    assert!(summary.skipped.iter().any(|s| s.path.ends_with("broken.jpg")));
    assert_eq!(summary.held_out.len(), 1);
    assert_eq!(summary.training_photos, 3);
    assert!(!summary.held_out_also_trained);
    assert_eq!(summary.photos_used(), 4);
    let json = serde_json::to_string(&summary).unwrap();
    assert!(json.contains("\"mode\":\"teacher\""), "{json}");

    assert_eq!(ds.held_out().len(), 1);
    assert_eq!(ds.held_out()[0].dimensions(), (256, 256));
    assert_eq!(ds.held_out_teacher().len(), 1);

    let b = ds.batch(9, 3, 2, 64);
    assert_eq!((b.n, b.size), (2, 64));
    assert_eq!(b.photos.len(), 2 * 3 * 64 * 64);
    assert_eq!(b.teacher.len(), b.photos.len());
    assert!(b.style.is_empty() && b.style_smoothed.is_empty());
    assert!(b.photos.iter().chain(&b.teacher).all(|v| (-1.0..=1.0).contains(v)));
    assert_eq!(b, ds.batch(9, 3, 2, 64), "pure function of (seed, step)");
    assert_ne!(b.photos, ds.batch(9, 4, 2, 64).photos);
    assert_ne!(b.photos, ds.batch(10, 3, 2, 64).photos);
    // The teacher target is aligned with the photo: flat quadrant colours stay close.
    let close = b.photos.iter().zip(&b.teacher).filter(|(p, t)| (*p - *t).abs() < 0.35).count();
    assert!(close as f64 > 0.6 * b.photos.len() as f64, "{close} of {}", b.photos.len());
    // The target is the teacher filter of the crop as the generator sees it (after scaling), not
    // a rescaled crop of the filtered full photo: lines keep the width the teacher draws.
    let plane = 3 * 64 * 64;
    for i in 0..2 {
        let crop = animestyle_train::data::from_nchw(&b.photos[i * plane..(i + 1) * plane], 64, 64);
        let expected =
            animestyle_train::data::to_nchw(&animestyle_train::teacher::apply_rgb8(&crop, &TeacherParams::default()));
        assert_eq!(&b.teacher[i * plane..(i + 1) * plane], &expected[..], "sample {i}");
    }

    // Same data, same seed → same held-out choice and the same batches.
    let (ds2, summary2) = Dataset::open(&[dir], &[], Mode::Teacher, &TeacherParams::default(), 1, 5).unwrap();
    assert_eq!(summary2.held_out, summary.held_out);
    assert_eq!(ds2.batch(9, 3, 2, 64), b);

    let rows = ds.sample_rows(|x, n, h, w| {
        assert_eq!((n, h, w), (1, 256, 256));
        x.to_vec()
    });
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].len(), 3);
    assert_eq!(rows[0][1], rows[0][0], "identity generator reproduces the input");
}

#[test]
fn anime_mode_pairs_style_frames_with_edge_smoothed_twins() {
    let tmp = tempfile::tempdir().unwrap();
    let p = photos(tmp.path());
    let s = folder(tmp.path(), "style", &[("s1.png", picture(128, 128, 5)), ("s2.png", picture(150, 100, 50))]);
    let (ds, summary) = Dataset::open(&[p], &[s], Mode::Anime, &TeacherParams::default(), 10, 1).unwrap();
    assert_eq!(summary.style_used(), 2);
    assert!(summary.held_out_also_trained, "4 photos, 10 held out: they are trained on too");
    assert_eq!(ds.held_out().len(), 4);
    assert!(ds.held_out_teacher().is_empty());
    let b = ds.batch(1, 0, 3, 48);
    assert!(b.teacher.is_empty());
    assert_eq!(b.style.len(), 3 * 3 * 48 * 48);
    assert_eq!(b.style_smoothed.len(), b.style.len());
    let changed = b.style.iter().zip(&b.style_smoothed).filter(|(a, b)| (*a - *b).abs() > 1e-6).count();
    assert!(changed > 0, "edges are blurred");
    assert!(changed < b.style.len() / 2, "only near edges: {changed} of {}", b.style.len());
}

#[test]
fn errors_name_the_problem_and_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let t = TeacherParams::default();
    let missing = tmp.path().join("nope");
    let e = Dataset::open(&[missing], &[], Mode::Teacher, &t, 0, 0).unwrap_err().to_string();
    assert!(e.contains("does not exist"), "{e}");

    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let e = Dataset::open(&[empty], &[], Mode::Teacher, &t, 0, 0).unwrap_err().to_string();
    assert!(e.contains("no images in") && e.contains("JPEG/PNG/WebP"), "{e}");

    let bad = folder(tmp.path(), "bad", &[("small.png", picture(32, 32, 0))]);
    std::fs::write(bad.join("x.png"), b"garbage").unwrap();
    let e = Dataset::open(std::slice::from_ref(&bad), &[], Mode::Teacher, &t, 0, 0).unwrap_err().to_string();
    assert_eq!(
        e,
        format!(
            "no usable images in {}: 2 files skipped (unreadable or smaller than 64 px); add JPEG/PNG/WebP photos at \
             least 64 px on the short side",
            bad.display()
        )
    );

    let good = folder(tmp.path(), "good", &[("a.png", picture(100, 100, 0))]);
    let e = Dataset::open(&[good], &[], Mode::Anime, &t, 0, 0).unwrap_err().to_string();
    assert!(e.contains("anime mode needs style frames"), "{e}");
    assert!(!e.contains('\n'));
}
