//! Generator weights → ONNX file the element runs, plus a naive reference forward pass.
//!
//! The graph follows [`crate::model::spec`] layer by layer: `Conv` (with `group`, `strides`,
//! `pads = kernel / 2`), `LeakyRelu` (alpha [`spec::LEAKY_SLOPE`]), `Add` for the residual of each
//! block, `Resize` (nearest, ×2, `scales = [1, 1, 2, 2]`, `coordinate_transformation_mode =
//! asymmetric`, `nearest_mode = floor`: output pixel `y` reads input `floor(y / 2)`, exactly what
//! burn's nearest interpolate and [`reference_forward`] do), `SpaceToDepth` / `DepthToSpace`
//! (`DCR`) around the space-to-depth layout, and a final `Tanh`. Input `input` and
//! output `output` are `[batch, 3, height, width]` float32 with symbolic `batch`, `height`,
//! `width`. Written with [`animestyle_model::onnx::GraphBuilder`] (IR 8, opset 17).

use std::path::Path;

use animestyle_model::ModelContract;
use animestyle_model::onnx::{DataType, Dim, GraphBuilder, attr};
use anyhow::{Context, bail};

use crate::files::write_atomic;
use crate::model::spec::{self, Activation, GeneratorWeights};

/// The contract our generators follow: NCHW, RGB, float32 `[-1, 1]` in and out, sides multiple of
/// [`spec::SIZE_MULTIPLE`], any size.
pub fn contract(style: &str) -> ModelContract {
    ModelContract::float_nchw_rgb(spec::SIZE_MULTIPLE, style)
}

/// Checks that `weights` holds one conv per layer of its config, with matching shapes.
pub fn check_weights(weights: &GeneratorWeights) -> anyhow::Result<()> {
    let layers = weights.config.layers();
    if layers.len() != weights.convs.len() {
        bail!(
            "generator weights have {} conv layers but the configuration {:?} needs {}",
            weights.convs.len(),
            weights.config,
            layers.len()
        );
    }
    for (spec, cw) in layers.iter().zip(&weights.convs) {
        if cw.spec != *spec {
            bail!("generator weights: layer '{}' does not match the architecture's '{}'", cw.spec.name, spec.name);
        }
        if cw.weight.len() != spec.weight_len() || cw.bias.len() != spec.out_channels {
            bail!(
                "generator weights: layer '{}' has {} weights and {} biases, expected {} and {}",
                spec.name,
                cw.weight.len(),
                cw.bias.len(),
                spec.weight_len(),
                spec.out_channels
            );
        }
    }
    Ok(())
}

/// The serialized ONNX model (see the module docs); `provenance` pairs are stored under
/// `animestyle.provenance.<key>`.
/// `contract` is normally [`contract`]`(style)`, optionally with a recommended inference size.
pub fn onnx_bytes(
    weights: &GeneratorWeights,
    provenance: &[(String, String)],
    contract: &ModelContract,
) -> anyhow::Result<Vec<u8>> {
    check_weights(weights)?;
    let mut g = GraphBuilder::new("animestyle_generator");
    g.doc(format!("animestyle generator {:?}", weights.config));
    let io_dims = [Dim::sym("batch"), Dim::Fixed(3), Dim::sym("height"), Dim::sym("width")];
    g.input("input", DataType::Float, &io_dims);

    let scales = g.const_f32(&[4], &[1.0, 1.0, 2.0, 2.0]);
    let mut x = "input".to_string();
    // Tensor entering each layer, to find the residual of `block{i}.project` (its block's input
    // is the input of `block{i}.expand`, two layers earlier).
    let mut layer_inputs: Vec<String> = Vec::new();
    let last = weights.convs.len() - 1;
    for (i, cw) in weights.convs.iter().enumerate() {
        let s = &cw.spec;
        if s.upsample_before {
            x = g.op(
                "Resize",
                &[&x, "", &scales],
                vec![
                    attr::string("mode", "nearest"),
                    attr::string("coordinate_transformation_mode", "asymmetric"),
                    attr::string("nearest_mode", "floor"),
                ],
            );
        }
        if s.space_to_depth_before > 0 {
            x = g.op("SpaceToDepth", &[&x], vec![attr::int("blocksize", s.space_to_depth_before as i64)]);
        }
        layer_inputs.push(x.clone());
        let (w_name, b_name) = (format!("{}.weight", s.name), format!("{}.bias", s.name));
        let k = s.kernel as i64;
        g.initializer_f32(&w_name, &[s.out_channels as i64, (s.in_channels / s.groups) as i64, k, k], &cw.weight);
        g.initializer_f32(&b_name, &[s.out_channels as i64], &cw.bias);
        let pad = k / 2;
        let y = g.op(
            "Conv",
            &[&x, &w_name, &b_name],
            vec![
                attr::ints("kernel_shape", &[k, k]),
                attr::ints("strides", &[s.stride as i64, s.stride as i64]),
                attr::ints("pads", &[pad, pad, pad, pad]),
                attr::ints("dilations", &[1, 1]),
                attr::int("group", s.groups as i64),
            ],
        );
        let y = if s.depth_to_space_after > 0 {
            g.op(
                "DepthToSpace",
                &[&y],
                vec![attr::int("blocksize", s.depth_to_space_after as i64), attr::string("mode", "DCR")],
            )
        } else {
            y
        };
        x = match s.activation {
            Activation::LeakyRelu => g.op("LeakyRelu", &[&y], vec![attr::float("alpha", spec::LEAKY_SLOPE as f32)]),
            Activation::ResidualAdd => {
                let residual = layer_inputs
                    .len()
                    .checked_sub(3)
                    .map(|j| layer_inputs[j].clone())
                    .context("a residual layer needs two layers before it")?;
                g.op("Add", &[&y, &residual], vec![])
            }
            Activation::Tanh => {
                if i != last {
                    bail!("tanh is only supported on the last layer");
                }
                g.node("Tanh", &[&y], &["output"], vec![]);
                "output".to_string()
            }
        };
    }
    if x != "output" {
        bail!("the generator's last layer must end in tanh");
    }
    g.output("output", DataType::Float, &io_dims);
    g.metadata_all(contract.to_metadata());
    for (k, v) in provenance {
        g.metadata(format!("{}{k}", animestyle_model::contract::keys::PROVENANCE_PREFIX), v.clone());
    }
    g.validate().map_err(anyhow::Error::msg)?;
    Ok(g.to_bytes())
}

/// Writes the generator as an ONNX model to `path` atomically (temporary file in the same
/// directory, then rename). On failure nothing is left at `path` or beside it.
pub fn export_onnx(
    weights: &GeneratorWeights,
    provenance: &[(String, String)],
    contract: &ModelContract,
    path: &Path,
) -> anyhow::Result<()> {
    let bytes = onnx_bytes(weights, provenance, contract)?;
    write_atomic(path, &bytes)
        .map_err(|e| anyhow::anyhow!("cannot write ONNX model to {}: {e}; choose a writable path", path.display()))
}

/// Naive forward pass of the generator on an NCHW `[-1, 1]` input of `n × 3 × h × w` (h and w
/// multiples of [`spec::SIZE_MULTIPLE`]); returns the `n × 3 × h × w` output. Clarity over speed:
/// for tests and parity checks. Panics if the weights do not match their config.
pub fn reference_forward(weights: &GeneratorWeights, input: &[f32], n: usize, h: usize, w: usize) -> Vec<f32> {
    check_weights(weights).expect("reference_forward: weights do not match their config");
    assert_eq!(input.len(), n * 3 * h * w, "reference_forward: input length");
    let mut out = Vec::with_capacity(n * 3 * h * w);
    for b in 0..n {
        let mut x = Feature { c: 3, h, w, data: input[b * 3 * h * w..(b + 1) * 3 * h * w].to_vec() };
        let mut layer_inputs: Vec<Feature> = Vec::new();
        for cw in &weights.convs {
            let s = &cw.spec;
            if s.upsample_before {
                x = x.upsample2();
            }
            if s.space_to_depth_before > 0 {
                x = x.space_to_depth(s.space_to_depth_before);
            }
            layer_inputs.push(x.clone());
            let mut y = conv2d(&x, cw);
            if s.depth_to_space_after > 0 {
                y = y.depth_to_space(s.depth_to_space_after);
            }
            match s.activation {
                Activation::LeakyRelu => {
                    for v in &mut y.data {
                        if *v < 0.0 {
                            *v *= spec::LEAKY_SLOPE as f32;
                        }
                    }
                }
                Activation::ResidualAdd => {
                    let r = &layer_inputs[layer_inputs.len() - 3];
                    for (v, r) in y.data.iter_mut().zip(&r.data) {
                        *v += r;
                    }
                }
                Activation::Tanh => y.data.iter_mut().for_each(|v| *v = v.tanh()),
            }
            x = y;
        }
        out.extend_from_slice(&x.data);
    }
    out
}

/// One CHW feature map.
#[derive(Debug, Clone)]
struct Feature {
    c: usize,
    h: usize,
    w: usize,
    data: Vec<f32>,
}

impl Feature {
    /// ONNX `SpaceToDepth`: output channel `(by·b + bx)·C + c` at `(y, x)` is input channel `c`
    /// at `(y·b + by, x·b + bx)`.
    fn space_to_depth(&self, b: usize) -> Feature {
        let (h, w) = (self.h / b, self.w / b);
        let mut data = vec![0.0; self.c * b * b * h * w];
        for by in 0..b {
            for bx in 0..b {
                for c in 0..self.c {
                    let o = (by * b + bx) * self.c + c;
                    for y in 0..h {
                        for x in 0..w {
                            data[(o * h + y) * w + x] = self.data[(c * self.h + y * b + by) * self.w + x * b + bx];
                        }
                    }
                }
            }
        }
        Feature { c: self.c * b * b, h, w, data }
    }

    /// ONNX `DepthToSpace`, `DCR`: output channel `c` at `(y·b + by, x·b + bx)` is input channel
    /// `(by·b + bx)·C' + c` at `(y, x)`, `C'` the output's channels.
    fn depth_to_space(&self, b: usize) -> Feature {
        let c_out = self.c / (b * b);
        let (h, w) = (self.h * b, self.w * b);
        let mut data = vec![0.0; self.c * self.h * self.w];
        for by in 0..b {
            for bx in 0..b {
                for c in 0..c_out {
                    let i = (by * b + bx) * c_out + c;
                    for y in 0..self.h {
                        for x in 0..self.w {
                            data[(c * h + y * b + by) * w + x * b + bx] = self.data[(i * self.h + y) * self.w + x];
                        }
                    }
                }
            }
        }
        Feature { c: c_out, h, w, data }
    }

    /// Nearest ×2: output `(y, x)` reads input `(y / 2, x / 2)`.
    fn upsample2(&self) -> Feature {
        let (h2, w2) = (self.h * 2, self.w * 2);
        let mut data = vec![0.0; self.c * h2 * w2];
        for c in 0..self.c {
            for y in 0..h2 {
                for x in 0..w2 {
                    data[(c * h2 + y) * w2 + x] = self.data[(c * self.h + y / 2) * self.w + x / 2];
                }
            }
        }
        Feature { c: self.c, h: h2, w: w2, data }
    }
}

/// Zero-padded (`kernel / 2`) grouped conv with stride, accumulated in f64.
fn conv2d(x: &Feature, cw: &spec::ConvWeights) -> Feature {
    let s = &cw.spec;
    let (k, stride, pad) = (s.kernel, s.stride, (s.kernel / 2) as isize);
    let oh = (x.h + 2 * pad as usize - k) / stride + 1;
    let ow = (x.w + 2 * pad as usize - k) / stride + 1;
    let in_per_group = s.in_channels / s.groups;
    let out_per_group = s.out_channels / s.groups;
    let mut data = vec![0.0f32; s.out_channels * oh * ow];
    for o in 0..s.out_channels {
        let group = o / out_per_group;
        for oy in 0..oh {
            for ox in 0..ow {
                let mut acc = cw.bias[o] as f64;
                for ci in 0..in_per_group {
                    let c = group * in_per_group + ci;
                    for ky in 0..k {
                        let iy = (oy * stride + ky) as isize - pad;
                        if iy < 0 || iy >= x.h as isize {
                            continue;
                        }
                        for kx in 0..k {
                            let ix = (ox * stride + kx) as isize - pad;
                            if ix < 0 || ix >= x.w as isize {
                                continue;
                            }
                            let wv = cw.weight[((o * in_per_group + ci) * k + ky) * k + kx];
                            acc += wv as f64 * x.data[(c * x.h + iy as usize) * x.w + ix as usize] as f64;
                        }
                    }
                }
                data[(o * oh + oy) * ow + ox] = acc as f32;
            }
        }
    }
    Feature { c: s.out_channels, h: oh, w: ow, data }
}
