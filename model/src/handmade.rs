//! The handmade default model: a "cel" look from fixed, hand-chosen weights (no training), the
//! element's default until a trained generator lands.
//!
//! Contract: input and output `[batch, 3, height, width]` float32 RGB in `[-1, 1]`, any height
//! and width (size multiple 1, minimum size 1).
//!
//! The graph, most of it at half resolution:
//!
//! 1. Downsample by 2 (bilinear `Resize` to `ceil(H/2) x ceil(W/2)`; an exact 2×2 box average for
//!    even sizes), then a 1×1 convolution that maps `[-1, 1]` to `[0, 1]` and boosts saturation.
//! 2. Edge-preserving smoothing, [`CelParams::smoothing_passes`] times: a soft Kuwahara filter.
//!    Each output pixel is a blend of the mean colours of the four `(r+1)×(r+1)` windows that
//!    have it as a corner, weighted by `softmax(-variance_luma * sharpness)`, so flat windows win
//!    and edges stay sharp (edge-replicated borders).
//! 3. Soft colour quantisation to [`CelParams::levels`] levels per channel:
//!    `q = round(a) + 0.5 * (2 (a - round(a)))^5` with `a = v * (levels - 1)`, flat inside a band
//!    and continuous (steep) between bands, so gradients become a few flat tones without
//!    aliased staircase edges.
//! 4. Dark lines, from the smoothed luma in one convolution: the dark side of a
//!    difference-of-Gaussians edge (`lineness = -dog - threshold`, the XDoG idea) or a strong
//!    Sobel gradient (`gain * (|grad| - edge_threshold)`), whichever is larger. The lineness map
//!    is upsampled to full resolution and only then turned into a line mask
//!    `clip(1 - slope * lineness, 0, 1)`, so lines are crisp at full resolution.
//! 5. The quantised colour is upsampled (bilinear) to the input size; output =
//!    `clip(colour * lines * 2 - 1, -1, 1)`.

use crate::contract::{ModelContract, keys};
use crate::onnx::{DataType, Dim, GraphBuilder, attr};

/// Style name written into the model's metadata.
pub const STYLE: &str = "handmade-cel";
/// Value of `animestyle.provenance.source` in the model's metadata.
pub const PROVENANCE_SOURCE: &str = "hand-chosen weights from animestyle_model::handmade; no training data";
/// Name of the model's input tensor.
pub const INPUT_NAME: &str = "input";
/// Name of the model's output tensor.
pub const OUTPUT_NAME: &str = "output";
/// Where the committed copy lives, relative to the workspace root.
pub const COMMITTED_PATH: &str = "models/animestyle-handmade.onnx";

/// ITU-R BT.601 luma weights.
const LUMA: [f32; 3] = [0.299, 0.587, 0.114];

/// The hand-chosen knobs of [`cel_model_with`]. [`Default`] is what [`cel_model`] uses.
#[derive(Debug, Clone, PartialEq)]
pub struct CelParams {
    /// Saturation gain applied after downsampling (1 = unchanged).
    pub saturation: f32,
    /// Number of soft-Kuwahara passes.
    pub smoothing_passes: usize,
    /// Kuwahara window reach `r`: the four windows are `(r+1)×(r+1)`.
    pub smoothing_radius: i64,
    /// How strongly low-variance windows win (`softmax(-variance * sharpness)`; luma in `[0, 1]`).
    pub smoothing_sharpness: f32,
    /// Quantisation levels per channel.
    pub levels: u32,
    /// Sigma of the inner Gaussian of the difference-of-Gaussians, in half-resolution pixels.
    pub line_sigma: f32,
    /// Ratio of the outer to the inner Gaussian's sigma.
    pub line_sigma_ratio: f32,
    /// DoG response (luma units) below which a line starts: `dog < -line_threshold`.
    pub line_threshold: f32,
    /// How quickly a line darkens to black past the threshold.
    pub line_slope: f32,
    /// Luma gradient (per half-resolution pixel, Sobel) above which a line is drawn too.
    pub edge_threshold: f32,
    /// Weight of the gradient lines against the DoG lines (0 = no gradient lines).
    pub edge_gain: f32,
}

impl Default for CelParams {
    fn default() -> Self {
        CelParams {
            saturation: 1.25,
            smoothing_passes: 1,
            smoothing_radius: 2,
            smoothing_sharpness: 600.0,
            levels: 7,
            line_sigma: 1.2,
            line_sigma_ratio: 1.6,
            line_threshold: 0.014,
            line_slope: 40.0,
            edge_threshold: 0.2,
            edge_gain: 0.6,
        }
    }
}

/// The contract the handmade model is written with.
pub fn contract() -> ModelContract {
    // Its look is made with the element's ink lines, as the trained styles' is.
    ModelContract { line_strength: Some(1.0), ..ModelContract::float_nchw_rgb(1, STYLE) }
}

/// The handmade cel model, serialized (deterministic: the same bytes on every call).
pub fn cel_model() -> Vec<u8> {
    cel_model_with(&CelParams::default())
}

/// A 1-D Gaussian of the given sigma and radius, normalised to sum 1 (computed in f64 so the
/// rounded f32 weights, and so the model bytes, do not depend on the platform's `expf`).
fn gaussian(sigma: f32, radius: i64) -> Vec<f64> {
    let sigma = f64::from(sigma);
    let raw: Vec<f64> = (-radius..=radius).map(|i| (-((i * i) as f64) / (2.0 * sigma * sigma)).exp()).collect();
    let sum: f64 = raw.iter().sum();
    raw.into_iter().map(|v| v / sum).collect()
}

/// Small helpers over [`GraphBuilder`] for the ops used here.
struct Ops<'a> {
    g: &'a mut GraphBuilder,
}

impl Ops<'_> {
    fn scalar(&mut self, v: f32) -> String {
        self.g.scalar_f32(v)
    }

    fn binary(&mut self, op: &str, a: &str, b: &str) -> String {
        self.g.op(op, &[a, b], vec![])
    }

    /// `x * a + b` with scalar `a`, `b`.
    fn affine(&mut self, x: &str, a: f32, b: f32) -> String {
        let a = self.scalar(a);
        let m = self.binary("Mul", x, &a);
        if b == 0.0 {
            return m;
        }
        let b = self.scalar(b);
        self.binary("Add", &m, &b)
    }

    fn clip(&mut self, x: &str, lo: f32, hi: f32) -> String {
        let lo = self.scalar(lo);
        let hi = self.scalar(hi);
        self.g.op("Clip", &[x, &lo, &hi], vec![])
    }

    /// Edge-replicating pad of `r` pixels on every side of an NCHW tensor.
    fn pad_edge(&mut self, x: &str, r: i64) -> String {
        let pads = self.g.const_i64(&[8], &[0, 0, r, r, 0, 0, r, r]);
        self.g.op("Pad", &[x, &pads], vec![attr::string("mode", "edge")])
    }

    fn slice(&mut self, x: &str, starts: &[i64], ends: &[i64], axes: &[i64]) -> String {
        let n = starts.len() as i64;
        let starts = self.g.const_i64(&[n], starts);
        let ends = self.g.const_i64(&[n], ends);
        let axes = self.g.const_i64(&[n], axes);
        self.g.op("Slice", &[x, &starts, &ends, &axes], vec![])
    }

    /// A convolution without bias over `[N, C, h, w]`, weights `[out, in, kh, kw]`, no padding.
    fn conv(&mut self, x: &str, out: i64, inp: i64, k: i64, weights: &[f32], bias: Option<&[f32]>) -> String {
        let w = self.g.const_f32(&[out, inp, k, k], weights);
        let mut inputs = vec![x.to_string(), w];
        if let Some(b) = bias {
            inputs.push(self.g.const_f32(&[out], b));
        }
        let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        self.g.op("Conv", &inputs, vec![attr::ints("kernel_shape", &[k, k])])
    }

    /// Luma `[N, 1, h, w]` of an RGB `[N, 3, h, w]`.
    fn luma(&mut self, x: &str) -> String {
        self.conv(x, 1, 3, 1, &LUMA, None)
    }

    /// Bilinear resize to the given `sizes` tensor (int64 `[4]`).
    fn resize(&mut self, x: &str, sizes: &str) -> String {
        self.g.op("Resize", &[x, "", "", sizes], vec![attr::string("mode", "linear")])
    }

    /// One soft-Kuwahara pass over `x` (`[N, 3, h, w]`, values in `[0, 1]`).
    fn soft_kuwahara(&mut self, x: &str, r: i64, sharpness: f32) -> String {
        let padded = self.pad_edge(x, r);
        let l = self.luma(&padded);
        let l2 = self.binary("Mul", &l, &l);
        let stacked = self.g.op("Concat", &[&padded, &l, &l2], vec![attr::int("axis", 1)]);
        // Window means of (r+1)x(r+1) windows: [N, 5, h+r, w+r]; window (i, j) covers input
        // pixels i-r..=i, j-r..=j.
        let means = self.g.op("AveragePool", &[&stacked], vec![attr::ints("kernel_shape", &[r + 1, r + 1])]);
        // The four windows with pixel (i, j) as a corner start at offsets 0 or r.
        let mut quadrants = Vec::new();
        for (dy, dx) in [(0, 0), (0, r), (r, 0), (r, r)] {
            let end = |d: i64| if d == 0 { -r } else { i64::MAX };
            let q = self.slice(&means, &[dy, dx], &[end(dy), end(dx)], &[2, 3]);
            let axis = self.g.const_i64(&[1], &[1]);
            quadrants.push(self.g.op("Unsqueeze", &[&q, &axis], vec![]));
        }
        let quadrants: Vec<&str> = quadrants.iter().map(String::as_str).collect();
        let q = self.g.op("Concat", &quadrants, vec![attr::int("axis", 1)]); // [N, 4, 5, h, w]
        let colour = self.slice(&q, &[0], &[3], &[2]);
        let mean_l = self.slice(&q, &[3], &[4], &[2]);
        let mean_l2 = self.slice(&q, &[4], &[5], &[2]);
        let sq = self.binary("Mul", &mean_l, &mean_l);
        let var = self.binary("Sub", &mean_l2, &sq);
        // softmax over the quadrant axis, by hand: ONNX Runtime's Softmax on a non-last axis
        // transposes and is slower. Relative to the smallest variance, so the best window has
        // weight exp(0) = 1 and the sum never underflows to 0.
        let axes = self.g.const_i64(&[1], &[1]);
        // (In opset 17 ReduceMin still takes its axes as an attribute, ReduceSum as an input.)
        let min_var = self.g.op("ReduceMin", &[&var], vec![attr::ints("axes", &[1]), attr::int("keepdims", 1)]);
        let excess = self.binary("Sub", &var, &min_var);
        let logits = self.affine(&excess, -sharpness, 0.0);
        let weights = self.g.op("Exp", &[&logits], vec![]);
        let total = self.g.op("ReduceSum", &[&weights, &axes], vec![attr::int("keepdims", 0)]);
        let weighted = self.binary("Mul", &colour, &weights);
        let sum = self.g.op("ReduceSum", &[&weighted, &axes], vec![attr::int("keepdims", 0)]);
        self.binary("Div", &sum, &total)
    }
}

/// The handmade cel model with other knobs (for experiments; the committed model uses
/// [`CelParams::default`]).
pub fn cel_model_with(p: &CelParams) -> Vec<u8> {
    let dims = [Dim::sym("batch"), Dim::Fixed(3), Dim::sym("height"), Dim::sym("width")];
    let mut g = GraphBuilder::new("animestyle-handmade-cel");
    g.doc(
        "animestyle handmade cel look: soft Kuwahara smoothing, soft colour quantisation and \
         difference-of-Gaussians lines, from hand-chosen weights (no training)",
    );
    g.input(INPUT_NAME, DataType::Float, &dims);
    let mut o = Ops { g: &mut g };

    // 1. Half resolution, [0, 1], more saturated.
    let shape = o.g.op("Shape", &[INPUT_NAME], vec![]);
    let plus = o.g.const_i64(&[4], &[0, 0, 1, 1]);
    let halver = o.g.const_i64(&[4], &[1, 1, 2, 2]);
    let rounded_up = o.binary("Add", &shape, &plus);
    let half_size = o.binary("Div", &rounded_up, &halver);
    let small = o.resize(INPUT_NAME, &half_size);
    // rgb01 = S * (0.5 x + 0.5) where S = (1 - s) * luma-rows + s * I keeps grey grey.
    let s = p.saturation;
    let mut weights = [0.0f32; 9];
    for (row, out) in weights.chunks_mut(3).enumerate() {
        for (col, w) in out.iter_mut().enumerate() {
            *w = 0.5 * ((1.0 - s) * LUMA[col] + if row == col { s } else { 0.0 });
        }
    }
    let mut x = o.conv(&small, 3, 3, 1, &weights, Some(&[0.5, 0.5, 0.5]));
    x = o.clip(&x, 0.0, 1.0);

    // 2. Edge-preserving smoothing.
    for _ in 0..p.smoothing_passes {
        x = o.soft_kuwahara(&x, p.smoothing_radius, p.smoothing_sharpness);
    }

    // 4 (at half resolution). Difference of Gaussians of the smoothed luma, as one kernel that
    // reaches two outer sigmas.
    let radius = (2.0 * p.line_sigma * p.line_sigma_ratio).ceil().max(1.0) as i64;
    let inner = gaussian(p.line_sigma, radius);
    let outer = gaussian(p.line_sigma * p.line_sigma_ratio, radius);
    let k = (2 * radius + 1) as usize;
    // Output channels: DoG, and Sobel x / y (scaled to a per-pixel difference) in the centre.
    let mut kernels = vec![0.0f32; 3 * k * k];
    let c = radius as usize;
    for y in 0..k {
        for xx in 0..k {
            kernels[y * k + xx] = (inner[y] * inner[xx] - outer[y] * outer[xx]) as f32;
        }
    }
    let sobel = [-1.0f32, 0.0, 1.0, -2.0, 0.0, 2.0, -1.0, 0.0, 1.0];
    for dy in 0..3 {
        for dx in 0..3 {
            let at = (c + dy - 1) * k + (c + dx - 1);
            kernels[k * k + at] = sobel[dy * 3 + dx] / 8.0;
            kernels[2 * k * k + at] = sobel[dx * 3 + dy] / 8.0;
        }
    }
    let luma = o.luma(&x);
    let luma = o.pad_edge(&luma, radius);
    let responses = o.conv(&luma, 3, 1, k as i64, &kernels, None);
    let (dog, gx, gy) = (o.g.fresh("dog"), o.g.fresh("gx"), o.g.fresh("gy"));
    o.g.node("Split", &[&responses], &[&dog, &gx, &gy], vec![attr::int("axis", 1)]);
    // Lineness: > 0 where a line goes. Dark side of a DoG edge, or a strong luma gradient.
    let mut lineness = o.affine(&dog, -1.0, -p.line_threshold);
    if p.edge_gain > 0.0 {
        let gx2 = o.binary("Mul", &gx, &gx);
        let gy2 = o.binary("Mul", &gy, &gy);
        let g2 = o.binary("Add", &gx2, &gy2);
        let grad = o.g.op("Sqrt", &[&g2], vec![]);
        let edge = o.affine(&grad, p.edge_gain, -p.edge_gain * p.edge_threshold);
        lineness = o.binary("Max", &lineness, &edge);
    }

    // 3. Soft quantisation.
    let steps = (p.levels.max(2) - 1) as f32;
    let scale = o.scalar(steps);
    let a = o.binary("Mul", &x, &scale);
    let r = o.g.op("Round", &[&a], vec![]);
    let f = o.binary("Sub", &a, &r); // [-0.5, 0.5]
    // 0.5 * (2f)^5 = 16 f^5
    let f2 = o.binary("Mul", &f, &f);
    let f4 = o.binary("Mul", &f2, &f2);
    let f5 = o.binary("Mul", &f4, &f);
    let soft = o.affine(&f5, 16.0, 0.0);
    let levels = o.binary("Add", &r, &soft);
    let quantised = o.affine(&levels, 1.0 / steps, 0.0);

    // 5. Back to full resolution; lines; [-1, 1].
    let colour = o.resize(&quantised, &shape);
    let keep = o.g.const_i64(&[4], &[1, 0, 1, 1]);
    let one_channel = o.g.const_i64(&[4], &[0, 1, 0, 0]);
    let masked = o.binary("Mul", &shape, &keep);
    let line_size = o.binary("Add", &masked, &one_channel); // [N, 1, H, W]
    let lineness = o.resize(&lineness, &line_size);
    // 2 * clip(1 - slope * lineness, 0, 1), as one affine map and a clip.
    let lines = o.affine(&lineness, -2.0 * p.line_slope, 2.0);
    let lines = o.clip(&lines, 0.0, 2.0);
    let lit = o.binary("Mul", &colour, &lines);
    let one = o.scalar(1.0);
    let out = o.binary("Sub", &lit, &one);
    let out = o.clip(&out, -1.0, 1.0);
    g.node("Identity", &[&out], &[OUTPUT_NAME], vec![]);
    g.output(OUTPUT_NAME, DataType::Float, &dims);
    g.metadata_all(contract().to_metadata());
    g.metadata(format!("{}source", keys::PROVENANCE_PREFIX), PROVENANCE_SOURCE);
    g.to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onnx::{Message, ModelProto};
    use std::path::Path;

    #[test]
    fn deterministic_with_contract_and_provenance_metadata() {
        let bytes = cel_model();
        assert_eq!(bytes, cel_model());
        let m = ModelProto::decode(bytes.as_slice()).unwrap();
        let md: std::collections::HashMap<_, _> =
            m.metadata_props.iter().map(|e| (e.key().to_string(), e.value().to_string())).collect();
        for (k, v) in contract().to_metadata() {
            assert_eq!(md.get(&k), Some(&v), "{k}");
        }
        assert_eq!(md[keys::STYLE], STYLE);
        assert_eq!(md["animestyle.provenance.source"], PROVENANCE_SOURCE);
        assert_eq!(m.ir_version, Some(crate::onnx::IR_VERSION));
    }

    #[test]
    fn committed_model_is_up_to_date() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(COMMITTED_PATH);
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == cel_model(),
            "{} is missing or differs from animestyle_model::handmade::cel_model(); regenerate it with \
             `cargo run -p animestyle-model --example write_handmade` and commit it",
            path.display()
        );
    }
}
