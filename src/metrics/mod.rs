//! Image-quality measures for stylized frames, shared by the tests, the gallery tool, the
//! trainer's `evaluate` command and the benchmarks. Images are 8-bit RGB, interleaved, row-major
//! (`width * height * 3` bytes). [`temporal`] holds the video measures (flicker, warping error)
//! and the synthetic sequences they run on.

pub mod drawn;
pub mod temporal;

/// An interleaved 8-bit RGB image.
#[derive(Debug, Clone, Copy)]
pub struct Rgb8<'a> {
    pub width: usize,
    pub height: usize,
    pub data: &'a [u8],
}

impl<'a> Rgb8<'a> {
    pub fn new(width: usize, height: usize, data: &'a [u8]) -> Self {
        assert_eq!(data.len(), width * height * 3, "{width}x{height} RGB needs {} bytes", width * height * 3);
        Rgb8 { width, height, data }
    }

    /// BT.601 luma of every pixel.
    pub fn luma(&self) -> Vec<f32> {
        self.data.chunks_exact(3).map(|p| 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32).collect()
    }
}

/// Peak signal-to-noise ratio in dB over all channels.
pub fn psnr(a: Rgb8, b: Rgb8) -> f64 {
    assert_eq!((a.width, a.height), (b.width, b.height));
    let mse =
        a.data.iter().zip(b.data).map(|(x, y)| (*x as f64 - *y as f64).powi(2)).sum::<f64>() / a.data.len() as f64;
    10.0 * (255.0f64 * 255.0 / mse.max(1e-12)).log10()
}

/// SSIM's window: Gaussian blur, σ 1.5, 11 taps, edges clamped.
fn gauss(src: &[f32], w: usize, h: usize) -> Vec<f32> {
    animestyle_model::blur::gaussian_blur(src, w, h, 1.5, 5)
}

/// SSIM of the luma (Wang et al. 2004: Gaussian window σ 1.5, K1 0.01, K2 0.03), mean over
/// the image.
pub fn ssim(a: Rgb8, b: Rgb8) -> f64 {
    assert_eq!((a.width, a.height), (b.width, b.height));
    let (w, h) = (a.width, a.height);
    let (x, y) = (a.luma(), b.luma());
    let prod = |p: &[f32], q: &[f32]| p.iter().zip(q).map(|(u, v)| u * v).collect::<Vec<f32>>();
    let (mx, my) = (gauss(&x, w, h), gauss(&y, w, h));
    let (sxx, syy, sxy) = (gauss(&prod(&x, &x), w, h), gauss(&prod(&y, &y), w, h), gauss(&prod(&x, &y), w, h));
    let (c1, c2) = ((0.01f32 * 255.0).powi(2), (0.03f32 * 255.0).powi(2));
    let total: f64 = (0..w * h)
        .map(|i| {
            let (vx, vy, cxy) = (sxx[i] - mx[i] * mx[i], syy[i] - my[i] * my[i], sxy[i] - mx[i] * my[i]);
            (((2.0 * mx[i] * my[i] + c1) * (2.0 * cxy + c2)) / ((mx[i] * mx[i] + my[i] * my[i] + c1) * (vx + vy + c2)))
                as f64
        })
        .sum();
    total / (w * h) as f64
}

/// Squared Sobel gradient magnitude of the luma (0 on the border).
pub fn gradient2(img: Rgb8) -> Vec<f32> {
    let (w, h) = (img.width, img.height);
    let l = img.luma();
    let mut g = vec![0.0; w * h];
    for y in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            let at = |dx: usize, dy: usize| l[(y + dy - 1) * w + x + dx - 1];
            let gx = at(2, 0) + 2.0 * at(2, 1) + at(2, 2) - at(0, 0) - 2.0 * at(0, 1) - at(0, 2);
            let gy = at(0, 2) + 2.0 * at(1, 2) + at(2, 2) - at(0, 0) - 2.0 * at(1, 0) - at(2, 0);
            g[y * w + x] = gx * gx + gy * gy;
        }
    }
    g
}

/// Pixels at the image's strongest edges: the top `percent`% of its gradient magnitude.
pub fn edge_mask(img: Rgb8, percent: usize) -> Vec<bool> {
    let g = gradient2(img);
    let mut sorted = g.clone();
    sorted.sort_by(f32::total_cmp);
    let threshold = sorted[(sorted.len() * (100 - percent.min(100)) / 100).min(sorted.len() - 1)];
    g.iter().map(|v| *v > threshold && *v > 0.0).collect()
}

/// Mean squared gradient of `img` over the `mask` pixels (edge sharpness).
pub fn edge_energy(img: Rgb8, mask: &[bool]) -> f64 {
    mean_where(&gradient2(img), mask)
}

fn mean_where(values: &[f32], mask: &[bool]) -> f64 {
    let (sum, n) =
        values.iter().zip(mask).filter(|(_, m)| **m).fold((0.0, 0usize), |(s, n), (v, _)| (s + *v as f64, n + 1));
    sum / n.max(1) as f64
}

/// Median over pixels of the luma's standard deviation in a 5×5 window: how much texture the
/// image's regions carry, ignoring the few pixels on lines and borders.
pub fn median_local_std(img: Rgb8) -> f64 {
    let (w, h) = (img.width, img.height);
    let l = img.luma();
    let mut stds: Vec<f32> = Vec::with_capacity(w * h);
    for y in 2..h.saturating_sub(2) {
        for x in 2..w.saturating_sub(2) {
            let (mut s, mut s2) = (0.0f32, 0.0f32);
            for yy in y - 2..=y + 2 {
                for v in &l[yy * w + x - 2..=yy * w + x + 2] {
                    s += v;
                    s2 += v * v;
                }
            }
            stds.push((s2 / 25.0 - (s / 25.0).powi(2)).max(0.0).sqrt());
        }
    }
    if stds.is_empty() {
        return 0.0;
    }
    stds.sort_by(f32::total_cmp);
    stds[stds.len() / 2] as f64
}

/// Distinct colours at 6 bits per channel.
pub fn distinct_colours(img: Rgb8) -> usize {
    let mut seen = vec![false; 1 << 18];
    for p in img.data.chunks_exact(3) {
        seen[((p[0] as usize) >> 2) << 12 | ((p[1] as usize) >> 2) << 6 | (p[2] as usize) >> 2] = true;
    }
    seen.iter().filter(|s| **s).count()
}

/// How a stylized image `out` differs from its input `inp` in the ways a cel look should.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CelEffect {
    /// [`median_local_std`] of `out` / of `inp`: below 1 = flatter regions.
    pub texture_ratio: f64,
    /// Mean luma of `out` minus `inp` at the input's strongest 5% of edges: negative = dark lines.
    pub edge_luma_change: f64,
    /// [`distinct_colours`] of `out` / of `inp`.
    pub colour_ratio: f64,
}

pub fn cel_effect(inp: Rgb8, out: Rgb8) -> CelEffect {
    assert_eq!((inp.width, inp.height), (out.width, out.height));
    let mask = edge_mask(inp, 5);
    let (li, lo) = (inp.luma(), out.luma());
    CelEffect {
        texture_ratio: median_local_std(out) / median_local_std(inp).max(1e-9),
        edge_luma_change: mean_where(&lo, &mask) - mean_where(&li, &mask),
        colour_ratio: distinct_colours(out) as f64 / distinct_colours(inp).max(1) as f64,
    }
}

/// Hasler–Süsstrunk colourfulness M (2003) of an image: with `rg = R − G` and
/// `yb = ½(R + G) − B` per pixel, `M = sqrt(σrg² + σyb²) + 0.3 · sqrt(μrg² + μyb²)` (population
/// standard deviations and means over all pixels, in levels). 0 for a gray image.
pub fn colourfulness(img: Rgb8) -> f64 {
    let n = (img.width * img.height).max(1) as f64;
    let (mut s_rg, mut s_yb, mut s2_rg, mut s2_yb) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for p in img.data.chunks_exact(3) {
        let (r, g, b) = (p[0] as f64, p[1] as f64, p[2] as f64);
        let (rg, yb) = (r - g, 0.5 * (r + g) - b);
        (s_rg, s_yb, s2_rg, s2_yb) = (s_rg + rg, s_yb + yb, s2_rg + rg * rg, s2_yb + yb * yb);
    }
    let (m_rg, m_yb) = (s_rg / n, s_yb / n);
    let var_rg = (s2_rg / n - m_rg * m_rg).max(0.0);
    let var_yb = (s2_yb / n - m_yb * m_yb).max(0.0);
    (var_rg + var_yb).sqrt() + 0.3 * (m_rg * m_rg + m_yb * m_yb).sqrt()
}

/// `num / den` for non-negative measures, guarded for a flat or gray input: 1 when both are
/// (near) zero — nothing to change, nothing changed — and `num / 1e-9` (huge but finite) when
/// only the denominator is.
fn guarded_ratio(num: f64, den: f64) -> f64 {
    const EPS: f64 = 1e-9;
    if num.abs() <= EPS && den.abs() <= EPS { 1.0 } else { num / den.max(EPS) }
}

/// How a stylized image differs from its input, as in `shared/reference.md`, "The look,
/// measured". Luma is BT.601; "strongest edges" are the input's top 10% Sobel gradient pixels
/// ([`edge_mask`] with 10).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LookSignature {
    /// [`ssim`] of output luma vs input luma: 1 = same drawing.
    pub structure: f64,
    /// Mean Sobel gradient magnitude (not squared) of the output / of the input, over the
    /// strongest edges: below 1 = blurred lines, above 1 = crisper lines.
    pub sharpness: f64,
    /// [`median_local_std`] (5×5) of the output luma / of the input's: below 1 = flatter regions.
    pub flatness: f64,
    /// [`colourfulness`] of the output / of the input: above 1 = more colourful.
    pub colourfulness: f64,
    /// Mean luma of the output minus the input's at the strongest edges, in levels (0–255):
    /// negative = dark lines.
    pub edge_darkness: f64,
}

/// The [`LookSignature`] of `output` against its `input` (same size). Ratios are guarded for a
/// flat input: 1 when both sides are zero, large but finite when only the input's is; with no
/// edge in the input, sharpness is 1 and edge darkness 0.
pub fn look_signature(input: Rgb8, output: Rgb8) -> LookSignature {
    assert_eq!((input.width, input.height), (output.width, output.height));
    let mask = edge_mask(input, 10);
    let magnitude = |img: Rgb8| gradient2(img).into_iter().map(f32::sqrt).collect::<Vec<f32>>();
    LookSignature {
        structure: ssim(input, output),
        sharpness: guarded_ratio(mean_where(&magnitude(output), &mask), mean_where(&magnitude(input), &mask)),
        flatness: guarded_ratio(median_local_std(output), median_local_std(input)),
        colourfulness: guarded_ratio(colourfulness(output), colourfulness(input)),
        edge_darkness: mean_where(&output.luma(), &mask) - mean_where(&input.luma(), &mask),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(w: usize, h: usize, f: impl Fn(usize, usize) -> [u8; 3] + Copy) -> Vec<u8> {
        (0..h).flat_map(|y| (0..w).flat_map(move |x| f(x, y))).collect()
    }

    #[test]
    fn identical_images_score_perfectly() {
        let a = image(32, 24, |x, y| [(x * 8) as u8, (y * 10) as u8, 77]);
        let img = Rgb8::new(32, 24, &a);
        assert!(psnr(img, img) > 100.0);
        assert!((ssim(img, img) - 1.0).abs() < 1e-4);
        let e = cel_effect(img, img);
        assert!((e.texture_ratio - 1.0).abs() < 1e-9 && e.edge_luma_change.abs() < 1e-9 && e.colour_ratio == 1.0);
    }

    #[test]
    fn flattening_and_dark_lines_are_measured() {
        // Input: noisy texture with one vertical edge. Output: flat halves with a black line.
        let (w, h) = (64, 32);
        let noise = |x: usize, y: usize| ((x * 7919 + y * 104729) % 23) as u8;
        let inp = image(w, h, |x, y| if x < 32 { [100 + noise(x, y); 3] } else { [180 + noise(x, y); 3] });
        let out = image(w, h, |x, _| {
            if x == 31 || x == 32 {
                [0; 3]
            } else if x < 32 {
                [110; 3]
            } else {
                [190; 3]
            }
        });
        let e = cel_effect(Rgb8::new(w, h, &inp), Rgb8::new(w, h, &out));
        assert!(e.texture_ratio < 0.1, "{e:?}");
        assert!(e.edge_luma_change < -50.0, "{e:?}");
        assert!(e.colour_ratio < 0.5, "{e:?}");
        assert!(psnr(Rgb8::new(w, h, &inp), Rgb8::new(w, h, &out)) < 20.0);
    }

    /// A textured colour image: pseudo-random speckle on smooth colour ramps, with a bright
    /// disc (strong edges). Values stay inside 40..=215 so ±40 never clamps.
    fn textured(w: usize, h: usize) -> Vec<u8> {
        image(w, h, |x, y| {
            let speckle = ((x * 7919 + y * 104729) ^ (x * y * 31)) % 41;
            let disc = (x as i64 - 20).pow(2) + (y as i64 - 16).pow(2) < 100;
            let base = if disc { 150 } else { 40 };
            [(base + speckle + x % 13) as u8, (base + speckle / 2 + y % 11) as u8, (base + 20 + speckle / 3) as u8]
        })
    }

    fn box_blur(w: usize, h: usize, src: &[u8]) -> Vec<u8> {
        let mut out = vec![0u8; src.len()];
        for y in 0..h {
            for x in 0..w {
                for c in 0..3 {
                    let mut s = 0u32;
                    for dy in -1i64..=1 {
                        for dx in -1i64..=1 {
                            let (xx, yy) =
                                ((x as i64 + dx).clamp(0, w as i64 - 1), (y as i64 + dy).clamp(0, h as i64 - 1));
                            s += src[3 * (yy as usize * w + xx as usize) + c] as u32;
                        }
                    }
                    out[3 * (y * w + x) + c] = ((s + 4) / 9) as u8;
                }
            }
        }
        out
    }

    #[test]
    fn look_signature_of_identity_is_neutral() {
        let (w, h) = (48, 32);
        let a = textured(w, h);
        let img = Rgb8::new(w, h, &a);
        let s = look_signature(img, img);
        assert!((s.structure - 1.0).abs() < 1e-4, "{s:?}");
        assert_eq!((s.sharpness, s.flatness, s.colourfulness, s.edge_darkness), (1.0, 1.0, 1.0, 0.0), "{s:?}");
    }

    #[test]
    fn look_signature_sees_a_blur_as_soft_and_flat() {
        let (w, h) = (48, 32);
        let a = textured(w, h);
        let b = box_blur(w, h, &a);
        let s = look_signature(Rgb8::new(w, h, &a), Rgb8::new(w, h, &b));
        assert!(s.sharpness < 0.9, "{s:?}");
        assert!(s.flatness < 0.9, "{s:?}");
        assert!(s.structure < 1.0, "{s:?}");
    }

    #[test]
    fn look_signature_measures_darkened_edges_in_levels() {
        let (w, h) = (48, 32);
        let a = textured(w, h);
        let mask = edge_mask(Rgb8::new(w, h, &a), 10);
        assert!(mask.iter().any(|m| *m));
        let mut b = a.clone();
        for (i, _) in mask.iter().enumerate().filter(|(_, m)| **m) {
            for c in 0..3 {
                b[3 * i + c] -= 20; // luma weights sum to 1: luma − 20
            }
        }
        let s = look_signature(Rgb8::new(w, h, &a), Rgb8::new(w, h, &b));
        assert!((s.edge_darkness + 20.0).abs() < 1e-3, "{s:?}");
    }

    #[test]
    fn gray_has_no_colourfulness_and_ratios_stay_finite() {
        let (w, h) = (48, 32);
        let gray = image(w, h, |x, y| [((x * 5 + y * 3) % 200) as u8; 3]);
        let colour = textured(w, h);
        let (g, c) = (Rgb8::new(w, h, &gray), Rgb8::new(w, h, &colour));
        assert_eq!(colourfulness(g), 0.0);
        assert_eq!(look_signature(g, g).colourfulness, 1.0);
        assert_eq!(look_signature(c, g).colourfulness, 0.0);
        let up = look_signature(g, c).colourfulness;
        assert!(up.is_finite() && up > 1.0, "{up}");
        // A flat input: no edges, no texture, no colour; every field finite.
        let flat = vec![128u8; w * h * 3];
        let f = Rgb8::new(w, h, &flat);
        let s = look_signature(f, f);
        assert_eq!((s.sharpness, s.flatness, s.colourfulness, s.edge_darkness), (1.0, 1.0, 1.0, 0.0), "{s:?}");
        let s = look_signature(f, c);
        assert!([s.structure, s.sharpness, s.flatness, s.colourfulness, s.edge_darkness].iter().all(|v| v.is_finite()));
    }

    #[test]
    fn colourfulness_of_red_and_blue_halves() {
        // Red (255, 0, 0): rg 255, yb 127.5. Blue (0, 0, 255): rg 0, yb −255. Half each:
        // μrg 127.5, μyb −63.75, σrg 127.5, σyb 191.25 = 1.5 · 127.5.
        // M = 127.5 · sqrt(1 + 2.25) + 0.3 · 63.75 · sqrt(4 + 1) ≈ 272.619.
        let (w, h) = (8, 4);
        let a = image(w, h, |x, _| if x < 4 { [255, 0, 0] } else { [0, 0, 255] });
        let expected = 127.5 * 3.25f64.sqrt() + 0.3 * 63.75 * 5f64.sqrt();
        let m = colourfulness(Rgb8::new(w, h, &a));
        assert!((m - expected).abs() < 1e-9, "{m} vs {expected}");
        assert!((expected - 272.619).abs() < 1e-3);
    }
}
