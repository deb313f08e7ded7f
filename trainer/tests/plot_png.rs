//! Loss curves and sample grids are readable PNGs written atomically.

use std::collections::HashSet;

use animestyle_train::plot::{curve_image, loss_curve_image, loss_curve_png, sample_grid_png};
use image::{Rgb, RgbImage};

#[test]
fn loss_curve_is_an_800x400_png_with_a_colour_per_series() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("curve.png");
    let noisy: Vec<(u64, f64)> =
        (0..500).map(|s| (s, 1.0 / (1.0 + s as f64 / 50.0) + 0.05 * ((s * 7919 % 13) as f64 / 13.0))).collect();
    let flat: Vec<(u64, f64)> = (0..500).map(|s| (s, 0.25)).collect();
    loss_curve_png(&path, &[("generator", noisy), ("discriminator", flat), ("empty", vec![])]).unwrap();
    let img = image::open(&path).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (800, 400));
    let colours: HashSet<[u8; 3]> = img.pixels().map(|p| p.0).collect();
    assert!(colours.contains(&[0, 114, 178]) && colours.contains(&[213, 94, 0]), "series colours drawn");
    assert!(colours.contains(&[20, 20, 20]), "labels drawn");
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "no temporary file left");
}

#[test]
fn loss_curve_handles_no_data_and_log_scale() {
    let dir = tempfile::tempdir().unwrap();
    loss_curve_png(&dir.path().join("a.png"), &[]).unwrap();
    loss_curve_png(&dir.path().join("b.png"), &[("x", vec![(0, f64::NAN), (5, 2.0)])]).unwrap();
    let wide: Vec<(u64, f64)> = (1..100).map(|s| (s, 1000.0 / (s * s) as f64)).collect();
    loss_curve_png(&dir.path().join("c.png"), &[("wide", wide)]).unwrap();
    assert_eq!(image::open(dir.path().join("c.png")).unwrap().width(), 800);
}

#[test]
fn a_curve_of_another_measure_is_titled_by_it_not_as_a_loss() {
    let fd: Vec<(u64, f64)> = (0..9).map(|s| (s * 100, 56.0 - s as f64 * 0.4)).collect();
    let series = [("FD-VGG16 to held-out art", fd)];
    let (titled, loss) = (curve_image("FD-VGG16", &series), loss_curve_image(&series));
    let differs = |y0: u32, y1: u32| {
        (y0..y1).any(|y| (0..titled.width()).any(|x| titled.get_pixel(x, y) != loss.get_pixel(x, y)))
    };
    assert!(differs(0, 24), "the title band shows the measure's name");
    assert!(!differs(24, titled.height()), "the plot itself is the same");
}

#[test]
fn sample_grid_tiles_rows_with_2px_gaps() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("grid.png");
    let tile = |v: u8| RgbImage::from_pixel(8, 6, Rgb([v, v, v]));
    sample_grid_png(&path, &[vec![tile(10), tile(200), tile(250)], vec![tile(50), tile(100), tile(150)]]).unwrap();
    let img = image::open(&path).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (3 * 8 + 4 * 2, 2 * 6 + 3 * 2));
    assert_eq!(img.get_pixel(2, 2).0, [10; 3]);
    assert_eq!(img.get_pixel(2 + 8 + 2, 2).0, [200; 3]);
    assert_eq!(img.get_pixel(2, 2 + 6 + 2).0, [50; 3]);
}

#[test]
fn unwritable_path_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = sample_grid_png(&dir.path().join("no").join("g.png"), &[vec![RgbImage::new(4, 4)]]).unwrap_err();
    assert!(err.to_string().contains("cannot write"), "{err}");
}
