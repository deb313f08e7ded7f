//! The exported ONNX generator runs in ONNX Runtime through the element's own code and matches
//! the pure-Rust reference forward pass.

use animestyle_model::onnx::{Message, ModelProto};
use animestyle_model::{ChannelOrder, Layout, ValueRange};
use animestyle_train::export::{contract, export_onnx, reference_forward};
use animestyle_train::model::spec::{ConvWeights, GeneratorConfig, GeneratorWeights};
use gstanimestyle::frame_io::Planes;
use gstanimestyle::session::{ModelSource, Session, SessionSettings};
use gstanimestyle::tensor_io::RgbSource;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random_weights(config: GeneratorConfig, seed: u64) -> GeneratorWeights {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let convs = config
        .layers()
        .into_iter()
        .map(|spec| {
            let fan_in = (spec.in_channels / spec.groups * spec.kernel * spec.kernel) as f32;
            let bound = (3.0 / fan_in).sqrt();
            let weight = (0..spec.weight_len()).map(|_| rng.random_range(-bound..bound)).collect();
            let bias = (0..spec.out_channels).map(|_| rng.random_range(-0.1..0.1)).collect();
            ConvWeights { spec, weight, bias }
        })
        .collect();
    GeneratorWeights { config, convs }
}

fn tiny() -> GeneratorWeights {
    random_weights(GeneratorConfig { c1: 4, c2: 8, c3: 8, blocks: 1, expand: 2, space_to_depth: 0 }, 7)
}

fn provenance() -> Vec<(String, String)> {
    vec![("steps".to_string(), "123".to_string()), ("mode".to_string(), "teacher".to_string())]
}

#[test]
fn onnx_runtime_through_the_element_matches_the_reference_forward() {
    runtime_matches_reference(tiny());
    // The space-to-depth layout: SpaceToDepth / DepthToSpace (DCR) as the reference does them.
    runtime_matches_reference(random_weights(
        GeneratorConfig { c1: 0, c2: 0, c3: 8, blocks: 1, expand: 2, space_to_depth: 4 },
        11,
    ));
}

fn runtime_matches_reference(weights: GeneratorWeights) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.onnx");
    let started = std::time::Instant::now();
    export_onnx(&weights, &provenance(), &contract("cel-test"), &path).unwrap();
    eprintln!("export took {:?} ({} bytes)", started.elapsed(), std::fs::metadata(&path).unwrap().len());

    let mut session = Session::load(&ModelSource::File(path.clone()), &SessionSettings::default())
        .unwrap_or_else(|e| panic!("{}", e.message));
    let c = &session.contract;
    assert_eq!(c.layout, Layout::Nchw);
    assert_eq!(c.channel_order, ChannelOrder::Rgb);
    assert_eq!(c.input_range, ValueRange::MinusOneToOne);
    assert_eq!(c.output_range, ValueRange::MinusOneToOne);
    assert_eq!(c.size_multiple, 4);
    assert_eq!(c.min_size, 4);
    assert_eq!(c.fixed_size, None, "height and width are dynamic");
    assert_eq!(c.style.as_deref(), Some("cel-test"));

    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for (w, h) in [(16usize, 12usize), (40, 28)] {
        // Exact pixel values, so the element's 0..255 → [-1, 1] mapping is exact.
        let pixels: Vec<f32> = (0..3 * w * h).map(|_| rng.random_range(0..=255u32) as f32).collect();
        let planes = Planes { width: w, height: h, data: pixels.clone() };
        let mut out = Planes::default();
        session.run(&RgbSource::Planes(&planes), (w, h), &mut out).unwrap();
        assert_eq!((out.width, out.height), (w, h));

        let input: Vec<f32> = pixels.iter().map(|p| p * (2.0 / 255.0) - 1.0).collect();
        let expected = reference_forward(&weights, &input, 1, h, w);
        let mut max_diff = 0.0f32;
        for (o, e) in out.data.iter().zip(&expected) {
            let as_tensor = o / 127.5 - 1.0;
            max_diff = max_diff.max((as_tensor - e).abs());
        }
        eprintln!("{w}x{h}: max |ORT - reference| = {max_diff:e} in [-1, 1] units");
        assert!(max_diff <= 1e-4, "{w}x{h}: max diff {max_diff}");
        // The output is not trivially constant.
        let spread =
            expected.iter().cloned().fold(f32::MIN, f32::max) - expected.iter().cloned().fold(f32::MAX, f32::min);
        assert!(spread > 0.05, "random weights give a varied output ({spread})");
    }
}

#[test]
fn graph_has_dynamic_dims_metadata_and_provenance() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.onnx");
    export_onnx(&tiny(), &provenance(), &contract("cel"), &path).unwrap();
    let model = ModelProto::decode(std::fs::read(&path).unwrap().as_slice()).unwrap();
    assert_eq!(model.ir_version, Some(8));
    assert_eq!(model.opset_import[0].version, Some(17));
    let graph = model.graph.as_ref().unwrap();
    for (vi, name) in [(&graph.input[0], "input"), (&graph.output[0], "output")] {
        assert_eq!(vi.name(), name);
        let dims = describe_dims(vi);
        assert_eq!(dims, ["batch", "3", "height", "width"], "{name}");
    }
    let md: std::collections::HashMap<&str, &str> = model.metadata_props.iter().map(|e| (e.key(), e.value())).collect();
    assert_eq!(md["animestyle.layout"], "NCHW");
    assert_eq!(md["animestyle.channel_order"], "RGB");
    assert_eq!(md["animestyle.input_range"], "-1,1");
    assert_eq!(md["animestyle.output_range"], "-1,1");
    assert_eq!(md["animestyle.size_multiple"], "4");
    assert_eq!(md["animestyle.style"], "cel");
    assert_eq!(md["animestyle.provenance.steps"], "123");
    assert_eq!(md["animestyle.provenance.mode"], "teacher");
    let ops: Vec<&str> = graph.node.iter().map(|n| n.op_type()).collect();
    assert_eq!(ops.iter().filter(|o| **o == "Conv").count(), tiny().convs.len());
    assert_eq!(ops.iter().filter(|o| **o == "Resize").count(), 2);
    assert_eq!(ops.last(), Some(&"Tanh"));
    // Nothing but the model in the directory (no temporary file left).
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

fn describe_dims(vi: &animestyle_model::onnx::ValueInfoProto) -> Vec<String> {
    use animestyle_model::onnx::proto::{tensor_shape_proto::dimension::Value, type_proto};
    let Some(type_proto::Value::TensorType(t)) = &vi.r#type.as_ref().unwrap().value else { panic!("not a tensor") };
    t.shape
        .as_ref()
        .unwrap()
        .dim
        .iter()
        .map(|d| match d.value.as_ref().unwrap() {
            Value::DimValue(v) => v.to_string(),
            Value::DimParam(p) => p.clone(),
        })
        .collect()
}

#[test]
fn unwritable_path_is_a_one_line_error_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // A path inside a missing directory.
    let path = dir.path().join("missing").join("g.onnx");
    let err = export_onnx(&tiny(), &[], &contract("cel"), &path).unwrap_err().to_string();
    assert!(err.starts_with(&format!("cannot write ONNX model to {}", path.display())), "{err}");
    assert!(err.ends_with("choose a writable path"), "{err}");
    assert!(!err.contains('\n'));
    assert!(!path.exists());
    // A path that is a directory: the rename fails after the temporary file was written.
    let target = dir.path().join("adir");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("keep"), b"x").unwrap();
    let err = export_onnx(&tiny(), &[], &contract("cel"), &target).unwrap_err().to_string();
    assert!(err.contains("choose a writable path"), "{err}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, [std::ffi::OsString::from("adir")], "no temporary file left beside it");
}

#[test]
fn mismatched_weights_are_rejected() {
    let mut w = tiny();
    w.convs[0].weight.pop();
    let dir = tempfile::tempdir().unwrap();
    let err = export_onnx(&w, &[], &contract("cel"), &dir.path().join("g.onnx")).unwrap_err().to_string();
    assert!(err.contains("stem"), "{err}");
}
