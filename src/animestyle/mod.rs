//! The `animestyle` element: see [`imp`] for what it does and how to use it.

use gst::glib;
use gst::prelude::*;

mod imp;

glib::wrapper! {
    pub struct AnimeStyle(ObjectSubclass<imp::AnimeStyle>)
        @extends gst_video::VideoFilter, gst_base::BaseTransform, gst::Element, gst::Object;
}

/// Which ONNX Runtime execution provider runs the model (`execution-provider` property).
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstAnimeStyleExecutionProvider")]
pub enum ExecutionProvider {
    #[enum_value(name = "Auto: CUDA, then OpenVINO, then CPU", nick = "auto")]
    Auto = 0,
    #[enum_value(name = "CPU", nick = "cpu")]
    Cpu = 1,
    #[enum_value(name = "CUDA (onnxruntime-gpu)", nick = "cuda")]
    Cuda = 2,
    #[enum_value(name = "TensorRT (onnxruntime-gpu)", nick = "tensorrt")]
    TensorRt = 3,
    #[enum_value(name = "OpenVINO", nick = "openvino")]
    OpenVino = 4,
}

/// Tensor layout override (`layout` property).
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstAnimeStyleLayout")]
pub enum TensorLayout {
    #[enum_value(name = "From the model (metadata, else the input shape)", nick = "auto")]
    Auto = 0,
    #[enum_value(name = "NCHW", nick = "nchw")]
    Nchw = 1,
    #[enum_value(name = "NHWC", nick = "nhwc")]
    Nhwc = 2,
}

/// Channel order override (`channel-order` property).
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstAnimeStyleChannelOrder")]
pub enum TensorChannelOrder {
    #[enum_value(name = "From the model (metadata, else RGB)", nick = "auto")]
    Auto = 0,
    #[enum_value(name = "RGB", nick = "rgb")]
    Rgb = 1,
    #[enum_value(name = "BGR", nick = "bgr")]
    Bgr = 2,
}

/// Value range override (`input-range` / `output-range` properties).
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstAnimeStyleValueRange")]
pub enum TensorRange {
    #[enum_value(name = "From the model (metadata, else [-1,1] for float and [0,255] for uint8)", nick = "auto")]
    Auto = 0,
    #[enum_value(name = "[-1, 1]", nick = "minus-one-one")]
    MinusOneToOne = 1,
    #[enum_value(name = "[0, 1]", nick = "zero-one")]
    ZeroToOne = 2,
    #[enum_value(name = "[0, 255]", nick = "zero-255")]
    ZeroTo255 = 3,
}

/// How the stylized low-resolution image is brought back to the frame size (`upsampling`).
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstAnimeStyleUpsampling")]
pub enum Upsampling {
    #[enum_value(
        name = "Guided: edge-aware fast guided filter, the frame guides the result (crisp lines)",
        nick = "guided"
    )]
    Guided = 0,
    #[enum_value(name = "Bilinear: plain resize (softer, slightly cheaper)", nick = "bilinear")]
    Bilinear = 1,
}

/// The bundled look used while `model` is empty (`style`).
#[derive(Debug, Default, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstAnimeStyleStyle")]
pub enum Style {
    #[default]
    #[enum_value(name = "Cel: flat regions and dark outlines (the default)", nick = "cel")]
    Cel = 0,
    #[enum_value(
        name = "Painted: warmer, more saturated colours and soft painted shading, from the drawn art's palette",
        nick = "painted"
    )]
    Painted = 1,
}

impl From<Style> for crate::session::Bundled {
    fn from(style: Style) -> Self {
        match style {
            Style::Cel => crate::session::Bundled::Cel,
            Style::Painted => crate::session::Bundled::Painted,
        }
    }
}

/// What the element outputs (`view`): for demos and tuning.
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstAnimeStyleView")]
pub enum View {
    #[enum_value(name = "Stylized", nick = "stylized")]
    Stylized = 0,
    #[enum_value(name = "Original (the network is not run)", nick = "original")]
    Original = 1,
    #[enum_value(name = "Split: original on the left, stylized on the right, with a divider", nick = "split")]
    Split = 2,
}

/// What the element does when stylization is slower than the frames arrive (`realtime-policy`).
#[derive(Debug, Eq, PartialEq, Ord, PartialOrd, Hash, Clone, Copy, glib::Enum)]
#[repr(u32)]
#[enum_type(name = "GstAnimeStyleRealtimePolicy")]
pub enum RealtimePolicy {
    #[enum_value(name = "Auto: latest for live sources (cameras), every-frame otherwise (files)", nick = "auto")]
    Auto = 0,
    #[enum_value(
        name = "Every frame: each frame is stylized, upstream waits (files, offline transcoding)",
        nick = "every-frame"
    )]
    EveryFrame = 1,
    #[enum_value(
        name = "Drop: frames the sink reports late (QoS) are dropped and counted; the rest are stylized",
        nick = "drop"
    )]
    Drop = 2,
    #[enum_value(
        name = "Latest: inference runs on a worker thread on the newest frame; every frame leaves on time, \
                reusing the latest stylization when the next is not ready",
        nick = "latest"
    )]
    Latest = 3,
}

pub fn register(plugin: &gst::Plugin) -> Result<(), glib::BoolError> {
    gst::Element::register(Some(plugin), "animestyle", gst::Rank::NONE, AnimeStyle::static_type())
}
