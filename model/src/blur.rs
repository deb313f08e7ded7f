//! The separable Gaussian blur both crates use: the element's SSIM window (`metrics.rs`) and
//! the trainer's teacher filter (`data.rs`).

/// Gaussian blur (standard deviation `sigma`, `2 * radius + 1` taps, weights normalised to
/// sum 1) of a `width × height` plane, edges replicated.
pub fn gaussian_blur(src: &[f32], width: usize, height: usize, sigma: f32, radius: usize) -> Vec<f32> {
    let r = radius as isize;
    let raw: Vec<f32> = (-r..=r).map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp()).collect();
    let sum: f32 = raw.iter().sum();
    let k: Vec<f32> = raw.iter().map(|v| v / sum).collect();
    let taps = k.len();
    let at = |v: isize, n: usize| v.clamp(0, n as isize - 1) as usize;
    let mut tmp = vec![0.0; width * height];
    for y in 0..height {
        for x in 0..width {
            tmp[y * width + x] =
                (0..taps).map(|i| k[i] * src[y * width + at(x as isize + i as isize - r, width)]).sum();
        }
    }
    let mut out = vec![0.0; width * height];
    for y in 0..height {
        for x in 0..width {
            out[y * width + x] =
                (0..taps).map(|i| k[i] * tmp[at(y as isize + i as isize - r, height) * width + x]).sum();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_a_flat_plane_and_spreads_a_point_symmetrically() {
        let flat = gaussian_blur(&[7.0; 20 * 10], 20, 10, 1.5, 5);
        assert!(flat.iter().all(|v| (v - 7.0).abs() < 1e-4));
        let mut point = vec![0.0; 11 * 11];
        point[5 * 11 + 5] = 1.0;
        let out = gaussian_blur(&point, 11, 11, 1.1, 2);
        assert!((out.iter().sum::<f32>() - 1.0).abs() < 1e-5, "weights sum to 1");
        assert_eq!(out[5 * 11 + 3], out[5 * 11 + 7]);
        assert_eq!(out[3 * 11 + 5], out[5 * 11 + 3]);
        assert_eq!(out[5 * 11 + 2], 0.0, "5 taps reach 2 pixels");
        assert!(out[5 * 11 + 5] > out[5 * 11 + 4] && out[5 * 11 + 4] > out[5 * 11 + 3]);
    }
}
