//! The model contract: how a frame becomes the generator's input tensor and how its output
//! tensor becomes a frame again.
//!
//! The trainer writes these facts into the ONNX file's `metadata_props` under the keys in
//! [`keys`]; the element reads them back. Models made elsewhere (AnimeGAN exports, for example)
//! carry no such keys, so the element infers what it can from the tensor shapes and falls back
//! to the conventions of that family (float, `[-1, 1]`, RGB). Every part can be overridden by an
//! element property.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

/// `metadata_props` keys written by the trainer and read by the element.
pub mod keys {
    /// Version of this contract, `"1"`.
    pub const CONTRACT_VERSION: &str = "animestyle.contract_version";
    /// `"NCHW"` or `"NHWC"`.
    pub const LAYOUT: &str = "animestyle.layout";
    /// `"RGB"` or `"BGR"`.
    pub const CHANNEL_ORDER: &str = "animestyle.channel_order";
    /// Value range of the input tensor: `"-1,1"`, `"0,1"` or `"0,255"`.
    pub const INPUT_RANGE: &str = "animestyle.input_range";
    /// Value range of the output tensor; defaults to the input range.
    pub const OUTPUT_RANGE: &str = "animestyle.output_range";
    /// Height and width must be multiples of this (e.g. `"8"` for three stride-2 stages).
    pub const SIZE_MULTIPLE: &str = "animestyle.size_multiple";
    /// Smallest height or width the network accepts.
    pub const MIN_SIZE: &str = "animestyle.min_size";
    /// Human-readable style name, e.g. `"cel"`.
    pub const STYLE: &str = "animestyle.style";
    /// Suggested longest side for real-time use (the element's `inference-size` default for
    /// this model when the property is left at its default).
    pub const RECOMMENDED_INFERENCE_SIZE: &str = "animestyle.recommended_inference_size";
    /// The ink lines this model's look is made with (the element's `line-strength` default for
    /// this model when the property is left at its default), `"0"` … `"2"`. A model without
    /// the key gets none: it looks as its authors made it.
    pub const LINE_STRENGTH: &str = "animestyle.line_strength";
    /// The cel shading this model's look is made with (the element's `cel-shading` default for
    /// this model when the property is left at its default), `"0"` … `"1"`. A model without the
    /// key gets none.
    pub const CEL_SHADING: &str = "animestyle.cel_shading";
    /// Prefix for training provenance (data summary, steps, git commit, command line).
    pub const PROVENANCE_PREFIX: &str = "animestyle.provenance.";
}

/// Current contract version written by our tools.
pub const CONTRACT_VERSION: u32 = 1;

/// Where the channel axis is in the 4-D image tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// `[N, C, H, W]` (PyTorch, our trainer).
    Nchw,
    /// `[N, H, W, C]` (TensorFlow exports such as AnimeGAN).
    Nhwc,
}

/// Order of the three colour channels in the tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelOrder {
    Rgb,
    Bgr,
}

/// The numeric range that represents black..white in a tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueRange {
    /// `[-1, 1]`: tanh generators (AnimeGAN family, ours).
    MinusOneToOne,
    /// `[0, 1]`.
    ZeroToOne,
    /// `[0, 255]`: the natural range of `uint8` tensors.
    ZeroTo255,
}

/// Element type of an image tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TensorType {
    F32,
    U8,
}

/// Everything needed to feed a model a frame and read its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelContract {
    pub layout: Layout,
    pub channel_order: ChannelOrder,
    pub input_range: ValueRange,
    pub output_range: ValueRange,
    pub input_type: TensorType,
    pub output_type: TensorType,
    /// Height and width given to the network are multiples of this.
    pub size_multiple: u32,
    /// Height and width given to the network are at least this.
    pub min_size: u32,
    /// `Some((width, height))` when the model only accepts one input size.
    pub fixed_size: Option<(u32, u32)>,
    pub style: Option<String>,
    pub recommended_inference_size: Option<u32>,
    /// The frame-size ink lines the model's look relies on ([`keys::LINE_STRENGTH`]); `None`:
    /// the model asks for none.
    pub line_strength: Option<f32>,
    /// The frame-size cel shading the model's look relies on ([`keys::CEL_SHADING`]); `None`:
    /// the model asks for none.
    pub cel_shading: Option<f32>,
}

/// The largest `line-strength` a model may ask for (the element's own maximum).
pub const MAX_LINE_STRENGTH: f32 = 2.0;
/// The largest `cel-shading` a model may ask for (the element's own maximum).
pub const MAX_CEL_SHADING: f32 = 1.0;

/// Size multiple assumed for dynamic-size models that do not declare one: 16 covers the
/// AnimeGAN family (8 for v2/v3, 16 for v3-tiny) at the cost of at most 15 pixels of padding.
pub const DEFAULT_SIZE_MULTIPLE: u32 = 16;

/// A dimension of a tensor as the model declares it; `None` is dynamic (symbolic or -1).
pub type Dim = Option<i64>;

/// Why a model cannot be used as an image-to-image generator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractError(pub String);

impl fmt::Display for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ContractError {}

fn err<T>(msg: impl Into<String>) -> Result<T, ContractError> {
    Err(ContractError(msg.into()))
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layout::Nchw => "NCHW",
            Layout::Nhwc => "NHWC",
        })
    }
}

impl FromStr for Layout {
    type Err = ContractError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "NCHW" => Ok(Layout::Nchw),
            "NHWC" => Ok(Layout::Nhwc),
            other => err(format!("unknown layout '{other}' (expected NCHW or NHWC)")),
        }
    }
}

impl fmt::Display for ChannelOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChannelOrder::Rgb => "RGB",
            ChannelOrder::Bgr => "BGR",
        })
    }
}

impl FromStr for ChannelOrder {
    type Err = ContractError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "RGB" => Ok(ChannelOrder::Rgb),
            "BGR" => Ok(ChannelOrder::Bgr),
            other => err(format!("unknown channel order '{other}' (expected RGB or BGR)")),
        }
    }
}

impl ValueRange {
    /// The tensor values of black and white.
    pub fn bounds(self) -> (f32, f32) {
        match self {
            ValueRange::MinusOneToOne => (-1.0, 1.0),
            ValueRange::ZeroToOne => (0.0, 1.0),
            ValueRange::ZeroTo255 => (0.0, 255.0),
        }
    }

    /// `(scale, offset)` such that `tensor = pixel * scale + offset` for a pixel in 0..=255.
    pub fn from_pixel(self) -> (f32, f32) {
        let (lo, hi) = self.bounds();
        ((hi - lo) / 255.0, lo)
    }

    /// `(scale, offset)` such that `pixel = tensor * scale + offset`, pixel in 0..=255.
    pub fn to_pixel(self) -> (f32, f32) {
        let (lo, hi) = self.bounds();
        let scale = 255.0 / (hi - lo);
        (scale, -lo * scale)
    }
}

impl fmt::Display for ValueRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValueRange::MinusOneToOne => "-1,1",
            ValueRange::ZeroToOne => "0,1",
            ValueRange::ZeroTo255 => "0,255",
        })
    }
}

impl FromStr for ValueRange {
    type Err = ContractError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let compact: String = s.chars().filter(|c| !c.is_whitespace() && *c != '[' && *c != ']').collect();
        match compact.as_str() {
            "-1,1" => Ok(ValueRange::MinusOneToOne),
            "0,1" => Ok(ValueRange::ZeroToOne),
            "0,255" => Ok(ValueRange::ZeroTo255),
            _ => err(format!("unknown value range '{s}' (expected -1,1 or 0,1 or 0,255)")),
        }
    }
}

impl fmt::Display for TensorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TensorType::F32 => "float32",
            TensorType::U8 => "uint8",
        })
    }
}

/// What the model file says about itself: its input and output tensors and its metadata.
#[derive(Debug, Clone, Default)]
pub struct ModelDescription {
    pub input_shape: Vec<Dim>,
    pub output_shape: Vec<Dim>,
    /// `None` when the element type is neither float32 nor uint8 (named in `*_type_name`).
    pub input_type: Option<TensorType>,
    pub output_type: Option<TensorType>,
    pub input_type_name: String,
    pub output_type_name: String,
    pub metadata: HashMap<String, String>,
}

/// Values the user set on the element; each one wins over metadata and inference.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContractOverrides {
    pub layout: Option<Layout>,
    pub channel_order: Option<ChannelOrder>,
    pub input_range: Option<ValueRange>,
    pub output_range: Option<ValueRange>,
    pub size_multiple: Option<u32>,
}

fn describe_shape(shape: &[Dim]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.map_or_else(|| "?".to_string(), |v| v.to_string())).collect();
    format!("[{}]", dims.join(", "))
}

fn channel_axis(shape: &[Dim], what: &str) -> Result<Layout, ContractError> {
    if shape.len() != 4 {
        return err(format!(
            "the model's {what} has shape {} (rank {}), but an image generator needs a rank-4 tensor \
             [N, 3, H, W] or [N, H, W, 3]",
            describe_shape(shape),
            shape.len()
        ));
    }
    match (shape[1], shape[3]) {
        (Some(3), _) => Ok(Layout::Nchw),
        (_, Some(3)) => Ok(Layout::Nhwc),
        _ => err(format!(
            "the model's {what} has shape {}, but neither axis 1 (NCHW) nor axis 3 (NHWC) has 3 \
             colour channels; animestyle runs RGB-to-RGB generators",
            describe_shape(shape)
        )),
    }
}

fn metadata_value<T: FromStr<Err = ContractError>>(
    metadata: &HashMap<String, String>,
    key: &str,
) -> Result<Option<T>, ContractError> {
    metadata
        .get(key)
        .map(|v| v.parse().map_err(|e: ContractError| ContractError(format!("metadata '{key}': {e}"))))
        .transpose()
}

fn metadata_u32(metadata: &HashMap<String, String>, key: &str) -> Result<Option<u32>, ContractError> {
    metadata
        .get(key)
        .map(|v| {
            v.trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| ContractError(format!("metadata '{key}' = '{v}' is not a positive integer")))
        })
        .transpose()
}

/// `s` as a line strength, `0..=`[`MAX_LINE_STRENGTH`]; `None` when it is not one.
pub fn parse_line_strength(s: &str) -> Option<f32> {
    parse_look_amount(s, MAX_LINE_STRENGTH)
}

/// `s` as a cel-shading amount, `0..=`[`MAX_CEL_SHADING`]; `None` when it is not one.
pub fn parse_cel_shading(s: &str) -> Option<f32> {
    parse_look_amount(s, MAX_CEL_SHADING)
}

fn parse_look_amount(s: &str, max: f32) -> Option<f32> {
    s.trim().parse::<f32>().ok().filter(|v| (0.0..=max).contains(v))
}

/// The line strength a model's metadata asks for ([`keys::LINE_STRENGTH`]), checked.
pub fn line_strength_from_metadata(metadata: &HashMap<String, String>) -> Result<Option<f32>, ContractError> {
    look_from_metadata(metadata, (keys::LINE_STRENGTH, "a line strength"), MAX_LINE_STRENGTH)
}

/// The cel shading a model's metadata asks for ([`keys::CEL_SHADING`]), checked.
pub fn cel_shading_from_metadata(metadata: &HashMap<String, String>) -> Result<Option<f32>, ContractError> {
    look_from_metadata(metadata, (keys::CEL_SHADING, "a cel-shading amount"), MAX_CEL_SHADING)
}

/// A frame-size look stage's amount from the metadata: `key`'s value, `0..=max`, checked.
fn look_from_metadata(
    metadata: &HashMap<String, String>,
    (key, what): (&str, &str),
    max: f32,
) -> Result<Option<f32>, ContractError> {
    metadata
        .get(key)
        .map(|v| {
            parse_look_amount(v, max).ok_or_else(|| {
                ContractError(format!(
                    "metadata '{key}' = '{v}' is not {what} from 0 to {max}; fix the model's metadata \
                     (animestyle-train metadata --set {key}=1) or remove the key"
                ))
            })
        })
        .transpose()
}

impl ModelContract {
    /// The frame-size ink lines the model asks for: its [`keys::LINE_STRENGTH`], 0 (none) for a
    /// model that does not say — it looks as its authors made it.
    pub fn asked_line_strength(&self) -> f32 {
        self.line_strength.unwrap_or(0.0)
    }

    /// The frame-size cel shading the model asks for: its [`keys::CEL_SHADING`], 0 (none) for a
    /// model that does not say.
    pub fn asked_cel_shading(&self) -> f32 {
        self.cel_shading.unwrap_or(0.0)
    }

    /// Resolves the contract: overrides first, then metadata, then what the shapes imply,
    /// then the AnimeGAN-family defaults.
    pub fn resolve(desc: &ModelDescription, overrides: &ContractOverrides) -> Result<Self, ContractError> {
        let md = &desc.metadata;
        let input_type = desc.input_type.ok_or_else(|| {
            ContractError(format!(
                "the model's input is a {} tensor; animestyle feeds float32 or uint8 images",
                desc.input_type_name
            ))
        })?;
        let output_type = desc.output_type.ok_or_else(|| {
            ContractError(format!(
                "the model's output is a {} tensor; animestyle reads float32 or uint8 images",
                desc.output_type_name
            ))
        })?;

        let inferred_layout = channel_axis(&desc.input_shape, "input")?;
        let layout = match overrides.layout.or(metadata_value(md, keys::LAYOUT)?) {
            Some(l) => l,
            None => inferred_layout,
        };
        // The output must be an image of the same layout with 3 channels.
        let out_layout = channel_axis(&desc.output_shape, "output")?;
        if out_layout != layout && overrides.layout.is_none() && !md.contains_key(keys::LAYOUT) {
            return err(format!(
                "the model's input {} is {layout} but its output {} is {out_layout}",
                describe_shape(&desc.input_shape),
                describe_shape(&desc.output_shape)
            ));
        }

        let channel_order =
            overrides.channel_order.or(metadata_value(md, keys::CHANNEL_ORDER)?).unwrap_or(ChannelOrder::Rgb);
        let type_default = |t: TensorType| match t {
            TensorType::F32 => ValueRange::MinusOneToOne,
            TensorType::U8 => ValueRange::ZeroTo255,
        };
        let input_range =
            overrides.input_range.or(metadata_value(md, keys::INPUT_RANGE)?).unwrap_or(type_default(input_type));
        let output_range = overrides
            .output_range
            .or(metadata_value(md, keys::OUTPUT_RANGE)?)
            .unwrap_or(if input_type == output_type { input_range } else { type_default(output_type) });

        let (h_axis, w_axis) = match layout {
            Layout::Nchw => (2, 3),
            Layout::Nhwc => (1, 2),
        };
        let fixed_size = match (desc.input_shape[w_axis], desc.input_shape[h_axis]) {
            (Some(w), Some(h)) if w > 0 && h > 0 => Some((w as u32, h as u32)),
            _ => None,
        };
        let declared_multiple = overrides.size_multiple.or(metadata_u32(md, keys::SIZE_MULTIPLE)?);
        let size_multiple = match (declared_multiple, fixed_size) {
            (Some(m), _) => m,
            (None, Some(_)) => 1,
            (None, None) => DEFAULT_SIZE_MULTIPLE,
        };
        let min_size = metadata_u32(md, keys::MIN_SIZE)?.unwrap_or(size_multiple).max(size_multiple);

        Ok(ModelContract {
            layout,
            channel_order,
            input_range,
            output_range,
            input_type,
            output_type,
            size_multiple,
            min_size,
            fixed_size,
            style: md.get(keys::STYLE).cloned(),
            recommended_inference_size: metadata_u32(md, keys::RECOMMENDED_INFERENCE_SIZE)?,
            line_strength: line_strength_from_metadata(md)?,
            cel_shading: cel_shading_from_metadata(md)?,
        })
    }

    /// The contract of our own generators (trainer exports, the handmade model, test nets):
    /// NCHW, RGB, float32 `[-1, 1]` in and out, any size that is a multiple of `size_multiple`.
    pub fn float_nchw_rgb(size_multiple: u32, style: &str) -> Self {
        ModelContract {
            layout: Layout::Nchw,
            channel_order: ChannelOrder::Rgb,
            input_range: ValueRange::MinusOneToOne,
            output_range: ValueRange::MinusOneToOne,
            input_type: TensorType::F32,
            output_type: TensorType::F32,
            size_multiple,
            min_size: size_multiple,
            fixed_size: None,
            style: Some(style.to_string()),
            recommended_inference_size: None,
            line_strength: None,
            cel_shading: None,
        }
    }

    /// The metadata entries that describe this contract, as the trainer writes them.
    pub fn to_metadata(&self) -> Vec<(String, String)> {
        let mut md = vec![
            (keys::CONTRACT_VERSION.to_string(), CONTRACT_VERSION.to_string()),
            (keys::LAYOUT.to_string(), self.layout.to_string()),
            (keys::CHANNEL_ORDER.to_string(), self.channel_order.to_string()),
            (keys::INPUT_RANGE.to_string(), self.input_range.to_string()),
            (keys::OUTPUT_RANGE.to_string(), self.output_range.to_string()),
            (keys::SIZE_MULTIPLE.to_string(), self.size_multiple.to_string()),
            (keys::MIN_SIZE.to_string(), self.min_size.to_string()),
        ];
        if let Some(style) = &self.style {
            md.push((keys::STYLE.to_string(), style.clone()));
        }
        if let Some(size) = self.recommended_inference_size {
            md.push((keys::RECOMMENDED_INFERENCE_SIZE.to_string(), size.to_string()));
        }
        if let Some(strength) = self.line_strength {
            md.push((keys::LINE_STRENGTH.to_string(), strength.to_string()));
        }
        if let Some(cel) = self.cel_shading {
            md.push((keys::CEL_SHADING.to_string(), cel.to_string()));
        }
        md
    }

    /// Network input size `(width, height)` for a frame of `frame` size when the longest side
    /// should be `inference_size` (0 = the frame's own size). Aspect is kept, then each side is
    /// rounded to the nearest multiple (never below `min_size`). Fixed-size models get their size.
    ///
    /// Returns `(content, canvas)`: the frame is resampled to `content` and padded (edge
    /// replication) to `canvas`, which is what the network sees.
    pub fn network_size(&self, frame: (u32, u32), inference_size: u32) -> ((u32, u32), (u32, u32)) {
        if let Some(fixed) = self.fixed_size {
            return (fixed, fixed);
        }
        let (fw, fh) = (frame.0.max(1), frame.1.max(1));
        let longest = fw.max(fh);
        let m = self.size_multiple.max(1);
        if inference_size == 0 || inference_size >= longest {
            // Native size: pad up to the multiple so no pixel is resampled.
            let round_up = |v: u32| (v.div_ceil(m) * m).max(self.min_size);
            return ((fw, fh), (round_up(fw), round_up(fh)));
        }
        // Reduced size: the frame is resampled anyway, so resample straight to a multiple.
        let scale = inference_size as f64 / longest as f64;
        let round_near = |v: u32| {
            let scaled = (v as f64 * scale).round().max(1.0) as u32;
            (((scaled + m / 2) / m) * m).max(m).max(self.min_size)
        };
        let size = (round_near(fw), round_near(fh));
        (size, size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(shape: [Dim; 4], ty: TensorType) -> ModelDescription {
        ModelDescription {
            input_shape: shape.to_vec(),
            output_shape: shape.to_vec(),
            input_type: Some(ty),
            output_type: Some(ty),
            input_type_name: ty.to_string(),
            output_type_name: ty.to_string(),
            metadata: HashMap::new(),
        }
    }

    #[test]
    fn infers_animegan_nhwc_defaults() {
        let c =
            ModelContract::resolve(&desc([None, None, None, Some(3)], TensorType::F32), &Default::default()).unwrap();
        assert_eq!(c.layout, Layout::Nhwc);
        assert_eq!(c.channel_order, ChannelOrder::Rgb);
        assert_eq!(c.input_range, ValueRange::MinusOneToOne);
        assert_eq!(c.size_multiple, DEFAULT_SIZE_MULTIPLE);
        assert_eq!(c.fixed_size, None);
    }

    #[test]
    fn uint8_defaults_to_0_255_and_fixed_size_is_read() {
        let c = ModelContract::resolve(
            &desc([Some(1), Some(3), Some(256), Some(512)], TensorType::U8),
            &Default::default(),
        )
        .unwrap();
        assert_eq!(c.layout, Layout::Nchw);
        assert_eq!(c.input_range, ValueRange::ZeroTo255);
        assert_eq!(c.fixed_size, Some((512, 256)));
        assert_eq!(c.network_size((1280, 720), 0), ((512, 256), (512, 256)));
    }

    #[test]
    fn metadata_then_overrides_win() {
        let mut d = desc([None, Some(3), None, None], TensorType::F32);
        d.metadata.insert(keys::CHANNEL_ORDER.into(), "BGR".into());
        d.metadata.insert(keys::INPUT_RANGE.into(), "0,1".into());
        d.metadata.insert(keys::SIZE_MULTIPLE.into(), "8".into());
        let c = ModelContract::resolve(&d, &Default::default()).unwrap();
        assert_eq!(
            (c.channel_order, c.input_range, c.output_range, c.size_multiple),
            (ChannelOrder::Bgr, ValueRange::ZeroToOne, ValueRange::ZeroToOne, 8)
        );
        let o =
            ContractOverrides { channel_order: Some(ChannelOrder::Rgb), size_multiple: Some(4), ..Default::default() };
        let c = ModelContract::resolve(&d, &o).unwrap();
        assert_eq!((c.channel_order, c.size_multiple), (ChannelOrder::Rgb, 4));
    }

    #[test]
    fn line_strength_is_read_written_and_absent_means_none() {
        let d = desc([None, Some(3), None, None], TensorType::F32);
        assert_eq!(ModelContract::resolve(&d, &Default::default()).unwrap().line_strength, None);
        let ours = ModelContract { line_strength: Some(1.5), ..ModelContract::float_nchw_rgb(4, "cel") };
        let mut d = desc([None, Some(3), None, None], TensorType::F32);
        d.metadata = ours.to_metadata().into_iter().collect();
        assert_eq!(ModelContract::resolve(&d, &Default::default()).unwrap().line_strength, Some(1.5));
        for bad in ["-1", "2.5", "NaN", "thick"] {
            d.metadata.insert(keys::LINE_STRENGTH.into(), bad.into());
            let e = ModelContract::resolve(&d, &Default::default()).unwrap_err();
            assert!(e.0.contains(keys::LINE_STRENGTH) && e.0.contains(bad) && e.0.contains("0 to 2"), "{e}");
        }
    }

    #[test]
    fn cel_shading_is_read_written_and_absent_means_none() {
        let d = desc([None, Some(3), None, None], TensorType::F32);
        let plain = ModelContract::resolve(&d, &Default::default()).unwrap();
        assert_eq!((plain.cel_shading, plain.asked_cel_shading()), (None, 0.0));
        let ours = ModelContract { cel_shading: Some(0.75), ..ModelContract::float_nchw_rgb(4, "cel") };
        let mut d = desc([None, Some(3), None, None], TensorType::F32);
        d.metadata = ours.to_metadata().into_iter().collect();
        assert_eq!(ModelContract::resolve(&d, &Default::default()).unwrap().cel_shading, Some(0.75));
        for bad in ["-0.5", "1.5", "NaN", "lots"] {
            d.metadata.insert(keys::CEL_SHADING.into(), bad.into());
            let e = ModelContract::resolve(&d, &Default::default()).unwrap_err();
            assert!(e.0.contains(keys::CEL_SHADING) && e.0.contains(bad) && e.0.contains("0 to 1"), "{e}");
        }
    }

    #[test]
    fn rejects_wrong_rank_and_channels_with_reason() {
        let mut d = desc([None, Some(3), None, None], TensorType::F32);
        d.input_shape = vec![None, Some(3), None];
        let e = ModelContract::resolve(&d, &Default::default()).unwrap_err();
        assert!(e.0.contains("rank 3"), "{e}");
        let d = desc([None, Some(1), None, Some(1)], TensorType::F32);
        let e = ModelContract::resolve(&d, &Default::default()).unwrap_err();
        assert!(e.0.contains("3 colour channels"), "{e}");
        let mut d = desc([None, Some(3), None, None], TensorType::F32);
        d.metadata.insert(keys::SIZE_MULTIPLE.into(), "zero".into());
        assert!(ModelContract::resolve(&d, &Default::default()).unwrap_err().0.contains("positive integer"));
    }

    #[test]
    fn network_size_keeps_aspect_and_rounds_to_multiple() {
        let mut c =
            ModelContract::resolve(&desc([None, Some(3), None, None], TensorType::F32), &Default::default()).unwrap();
        c.size_multiple = 8;
        c.min_size = 8;
        // Native: pad only.
        assert_eq!(c.network_size((37, 23), 0), ((37, 23), (40, 24)));
        assert_eq!(c.network_size((1, 1), 0), ((1, 1), (8, 8)));
        // Reduced: 1280x720 -> long side 384 -> 384x216 -> multiples of 8.
        assert_eq!(c.network_size((1280, 720), 384), ((384, 216), (384, 216)));
        // An inference size larger than the frame means native.
        assert_eq!(c.network_size((320, 240), 640), ((320, 240), (320, 240)));
    }

    #[test]
    fn range_conversions_round_trip() {
        for r in [ValueRange::MinusOneToOne, ValueRange::ZeroToOne, ValueRange::ZeroTo255] {
            let (s, o) = r.from_pixel();
            let (s2, o2) = r.to_pixel();
            for p in [0.0f32, 17.0, 255.0] {
                assert!(((p * s + o) * s2 + o2 - p).abs() < 1e-3);
            }
            assert_eq!(r.to_string().parse::<ValueRange>().unwrap(), r);
        }
    }
}
