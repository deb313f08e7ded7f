//! The generator architecture as plain data: what the burn model builds, what the ONNX
//! exporter writes, and what `animestyle-train info` counts. Both sides follow this one
//! description, so they cannot drift.
//!
//! Layers, in forward order (every conv has a bias; all convs are 2-D with square kernels):
//!
//! | name | kernel | stride | groups | in → out | after |
//! |---|---|---|---|---|---|
//! | `stem` | 3 | 1 | 1 | 3 → c1 | LeakyReLU(0.2) |
//! | `down1` | 3 | 2 | 1 | c1 → c2 | LeakyReLU(0.2) |
//! | `down2` | 3 | 2 | 1 | c2 → c3 | LeakyReLU(0.2) |
//! | `block{i}.expand` | 1 | 1 | 1 | c3 → c3·e | LeakyReLU(0.2) |
//! | `block{i}.depthwise` | 3 | 1 | c3·e | c3·e → c3·e | LeakyReLU(0.2) |
//! | `block{i}.project` | 1 | 1 | 1 | c3·e → c3 | none; then `+ block input` |
//! | (nearest ×2 upsample) | | | | | |
//! | `up1` | 3 | 1 | 1 | c3 → c2 | LeakyReLU(0.2) |
//! | (nearest ×2 upsample) | | | | | |
//! | `up2` | 3 | 1 | 1 | c2 → c1 | LeakyReLU(0.2) |
//! | `head` | 3 | 1 | 1 | c1 → 3 | tanh |
//!
//! Padding is `kernel / 2` zeros on every side. Input and output are NCHW float RGB in
//! `[-1, 1]`; height and width must be multiples of 4 (two stride-2 stages).
//!
//! **Space-to-depth** variant (`space_to_depth = r`, 2 or 4; c1 and c2 unused): the frame is
//! folded into `3·r²` channels at `1/r` resolution (ONNX `SpaceToDepth`), so no conv runs at
//! full resolution, where the plain layout spends most of its time on ONNX Runtime's CPU
//! kernels (`shared/reference.md`, *Generator speed budget*):
//!
//! | name | kernel | stride | groups | in → out | after |
//! |---|---|---|---|---|---|
//! | (space-to-depth ×r) | | | | 3 → 3·r² | |
//! | `stem` | 3 | 1 | 1 | 3·r² → c3 | LeakyReLU(0.2) |
//! | `block{i}.…` | | | | c3 → c3 | as above |
//! | `head` | 3 | 1 | 1 | c3 → 3·r² | depth-to-space ×r (ONNX `DepthToSpace`, DCR), tanh |

use serde::{Deserialize, Serialize};

/// LeakyReLU slope used after every activated conv.
pub const LEAKY_SLOPE: f64 = 0.2;
/// Height and width multiple the generator needs.
pub const SIZE_MULTIPLE: u32 = 4;

/// Width and depth of the generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GeneratorConfig {
    /// Channels at full resolution (c1).
    pub c1: usize,
    /// Channels at 1/2 resolution (c2).
    pub c2: usize,
    /// Channels at 1/4 resolution, in the residual blocks (c3).
    pub c3: usize,
    /// Number of inverted-residual blocks.
    pub blocks: usize,
    /// Expansion factor of the blocks (e).
    pub expand: usize,
    /// 0: the plain layout; 2 or 4: the space-to-depth layout with this block size (the
    /// blocks then run at `1/r` resolution with c3 channels; c1 and c2 are not used).
    #[serde(default)]
    pub space_to_depth: usize,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        GeneratorConfig { c1: 16, c2: 32, c3: 64, blocks: 6, expand: 2, space_to_depth: 0 }
    }
}

/// Activation applied after a conv layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    LeakyRelu,
    /// No activation; the block's input is added (residual).
    ResidualAdd,
    Tanh,
}

/// One conv layer of the architecture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvSpec {
    pub name: String,
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel: usize,
    pub stride: usize,
    pub groups: usize,
    /// A nearest-neighbour ×2 upsample comes before this conv.
    pub upsample_before: bool,
    /// Space-to-depth with this block size comes before this conv (0 = none).
    pub space_to_depth_before: usize,
    /// Depth-to-space with this block size comes after this conv, before its activation
    /// (0 = none).
    pub depth_to_space_after: usize,
    pub activation: Activation,
}

impl ConvSpec {
    pub fn weight_len(&self) -> usize {
        self.out_channels * (self.in_channels / self.groups) * self.kernel * self.kernel
    }

    /// Multiply-accumulates per output pixel of this layer.
    pub fn macs_per_pixel(&self) -> usize {
        self.weight_len()
    }
}

fn conv(name: String, i: usize, o: usize, kernel: usize, stride: usize, groups: usize, act: Activation) -> ConvSpec {
    ConvSpec {
        name,
        in_channels: i,
        out_channels: o,
        kernel,
        stride,
        groups,
        upsample_before: false,
        space_to_depth_before: 0,
        depth_to_space_after: 0,
        activation: act,
    }
}

impl GeneratorConfig {
    /// The layers in forward order.
    pub fn layers(&self) -> Vec<ConvSpec> {
        use Activation::*;
        let (c1, c2, c3, e) = (self.c1, self.c2, self.c3, self.c3 * self.expand);
        let blocks = |l: &mut Vec<ConvSpec>| {
            for i in 0..self.blocks {
                l.push(conv(format!("block{i}.expand"), c3, e, 1, 1, 1, LeakyRelu));
                l.push(conv(format!("block{i}.depthwise"), e, e, 3, 1, e, LeakyRelu));
                l.push(conv(format!("block{i}.project"), e, c3, 1, 1, 1, ResidualAdd));
            }
        };
        if self.space_to_depth > 0 {
            let folded = 3 * self.space_to_depth * self.space_to_depth;
            let mut stem = conv("stem".into(), folded, c3, 3, 1, 1, LeakyRelu);
            stem.space_to_depth_before = self.space_to_depth;
            let mut l = vec![stem];
            blocks(&mut l);
            let mut head = conv("head".into(), c3, folded, 3, 1, 1, Tanh);
            head.depth_to_space_after = self.space_to_depth;
            l.push(head);
            return l;
        }
        let mut l = vec![
            conv("stem".into(), 3, c1, 3, 1, 1, LeakyRelu),
            conv("down1".into(), c1, c2, 3, 2, 1, LeakyRelu),
            conv("down2".into(), c2, c3, 3, 2, 1, LeakyRelu),
        ];
        blocks(&mut l);
        let mut up1 = conv("up1".into(), c3, c2, 3, 1, 1, LeakyRelu);
        up1.upsample_before = true;
        let mut up2 = conv("up2".into(), c2, c1, 3, 1, 1, LeakyRelu);
        up2.upsample_before = true;
        l.push(up1);
        l.push(up2);
        l.push(conv("head".into(), c1, 3, 3, 1, 1, Tanh));
        l
    }

    /// Trainable parameters (weights and biases).
    pub fn parameters(&self) -> usize {
        self.layers().iter().map(|c| c.weight_len() + c.out_channels).sum()
    }

    /// Multiply-accumulates for one `width × height` frame (×2 for FLOPs).
    pub fn macs(&self, width: usize, height: usize) -> usize {
        let mut scale = 1usize; // current downsampling factor
        let mut total = 0;
        for c in self.layers() {
            if c.upsample_before {
                scale /= 2;
            }
            scale *= c.stride * c.space_to_depth_before.max(1);
            total += c.macs_per_pixel() * (width / scale) * (height / scale);
        }
        total
    }
}

/// Weights of one conv layer, in ONNX's layout: weight `[out, in / groups, k, k]` row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct ConvWeights {
    pub spec: ConvSpec,
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
}

/// All weights of a generator, layer by layer in [`GeneratorConfig::layers`] order.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratorWeights {
    pub config: GeneratorConfig,
    pub convs: Vec<ConvWeights>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_list_matches_the_table() {
        let c = GeneratorConfig { c1: 8, c2: 16, c3: 32, blocks: 2, expand: 2, space_to_depth: 0 };
        let names: Vec<String> = c.layers().into_iter().map(|l| l.name).collect();
        assert_eq!(
            names,
            [
                "stem",
                "down1",
                "down2",
                "block0.expand",
                "block0.depthwise",
                "block0.project",
                "block1.expand",
                "block1.depthwise",
                "block1.project",
                "up1",
                "up2",
                "head"
            ]
        );
        // stem 3*8*9+8, down1 8*16*9+16, down2 16*32*9+32, per block 32*64+64 + 64*9+64 + 64*32+32, up1 32*16*9+16,
        // up2 16*8*9+8, head 8*3*9+3
        let per_block = 32 * 64 + 64 + 64 * 9 + 64 + 64 * 32 + 32;
        let expected = 224 + 1168 + 4640 + 2 * per_block + 4624 + 1160 + 219;
        assert_eq!(c.parameters(), expected);
    }

    #[test]
    fn the_space_to_depth_layout_runs_everything_at_a_quarter_resolution() {
        let c = GeneratorConfig { c1: 0, c2: 0, c3: 96, blocks: 8, expand: 2, space_to_depth: 4 };
        let layers = c.layers();
        assert_eq!((layers[0].in_channels, layers[0].space_to_depth_before), (48, 4));
        let head = layers.last().unwrap();
        assert_eq!((head.name.as_str(), head.out_channels, head.depth_to_space_after), ("head", 48, 4));
        assert_eq!(layers.len(), 2 + 3 * 8);
        // The reference's 396 k parameters (shared/reference.md, generator speed budget).
        let per_block = 96 * 192 + 192 + 192 * 9 + 192 + 192 * 96 + 96;
        assert_eq!(c.parameters(), (48 * 96 * 9 + 96) + 8 * per_block + (96 * 48 * 9 + 48));
        assert!((390_000..400_000).contains(&c.parameters()));
        // Every conv at 1/16 of the pixels.
        let (w, h) = (64, 32);
        let per_pixel: usize = layers.iter().map(|l| l.macs_per_pixel()).sum();
        assert_eq!(c.macs(w, h), per_pixel * (w / 4) * (h / 4));
    }

    #[test]
    fn macs_count_each_resolution() {
        let c = GeneratorConfig { c1: 1, c2: 1, c3: 1, blocks: 0, expand: 1, space_to_depth: 0 };
        // stem at full res (27), down1 at 1/2 (9), down2 at 1/4 (9), up1 at 1/2 (9), up2 full (9), head full (27)
        let (w, h) = (8, 8);
        assert_eq!(c.macs(w, h), 27 * 64 + 9 * 16 + 9 * 4 + 9 * 16 + 9 * 64 + 27 * 64);
    }
}
