//! A small ONNX writer: the protobuf types generated from the official `onnx.proto`
//! ([`proto`]) and a [`GraphBuilder`] that assembles a single-graph model from nodes,
//! initializers and typed inputs/outputs.
//!
//! Models are written with IR version [`IR_VERSION`] (8) and the default-domain opset
//! [`OPSET_VERSION`] (17). Both are set explicitly: the pip `onnx` package writes IR 14 by
//! default, which ONNX Runtime 1.31 rejects.
//!
//! ```
//! use animestyle_model::onnx::{attr, DataType, Dim, GraphBuilder};
//!
//! let mut g = GraphBuilder::new("negate");
//! g.input("x", DataType::Float, &[Dim::Fixed(1), Dim::Fixed(3), Dim::sym("height"), Dim::sym("width")]);
//! let minus_one = g.scalar_f32(-1.0);
//! let y = g.op("Mul", &["x", &minus_one], vec![]);
//! let clipped = g.op("Clip", &[&y], vec![]);
//! g.node("Identity", &[&clipped], &["y"], vec![]);
//! g.output("y", DataType::Float, &[Dim::Fixed(1), Dim::Fixed(3), Dim::sym("height"), Dim::sym("width")]);
//! g.metadata("animestyle.style", "negative");
//! let _ = attr::int("axis", 1); // attributes are plain `AttributeProto`s
//! let bytes: Vec<u8> = g.to_bytes();
//! assert!(!bytes.is_empty());
//! ```

use std::collections::HashSet;

/// Protobuf types generated from `model/proto/onnx.proto` (see `model/codegen`).
#[allow(clippy::all, clippy::pedantic, missing_docs, rustdoc::all)]
pub mod proto {
    include!("onnx.rs");
}

pub use prost::Message;
pub use proto::tensor_proto::DataType;
pub use proto::{AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto};

use proto::attribute_proto::AttributeType;
use proto::tensor_shape_proto::{Dimension, dimension};
use proto::{OperatorSetIdProto, StringStringEntryProto, TensorShapeProto, TypeProto, type_proto};

/// IR version written by [`GraphBuilder`].
pub const IR_VERSION: i64 = 8;
/// Default-domain (`ai.onnx`) opset written by [`GraphBuilder`] unless [`GraphBuilder::opset`]
/// changes it.
pub const OPSET_VERSION: i64 = 17;
/// `producer_name` written into every model.
pub const PRODUCER_NAME: &str = "animestyle-model";

/// One dimension of a graph input or output.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Dim {
    /// A known size.
    Fixed(i64),
    /// A named dynamic size (`dim_param`), e.g. `"height"`.
    Symbolic(String),
}

impl Dim {
    /// A symbolic dimension: `Dim::sym("height")`.
    pub fn sym(name: impl Into<String>) -> Self {
        Dim::Symbolic(name.into())
    }
}

impl From<i64> for Dim {
    fn from(v: i64) -> Self {
        Dim::Fixed(v)
    }
}

impl From<&str> for Dim {
    fn from(name: &str) -> Self {
        Dim::Symbolic(name.to_string())
    }
}

/// Constructors for node attributes.
pub mod attr {
    use super::{AttributeProto, AttributeType};

    fn named(name: &str, ty: AttributeType) -> AttributeProto {
        AttributeProto { name: Some(name.to_string()), r#type: Some(ty as i32), ..Default::default() }
    }

    /// An `INT` attribute.
    pub fn int(name: &str, value: i64) -> AttributeProto {
        AttributeProto { i: Some(value), ..named(name, AttributeType::Int) }
    }

    /// An `INTS` attribute.
    pub fn ints(name: &str, values: &[i64]) -> AttributeProto {
        AttributeProto { ints: values.to_vec(), ..named(name, AttributeType::Ints) }
    }

    /// A `FLOAT` attribute.
    pub fn float(name: &str, value: f32) -> AttributeProto {
        AttributeProto { f: Some(value), ..named(name, AttributeType::Float) }
    }

    /// A `FLOATS` attribute.
    pub fn floats(name: &str, values: &[f32]) -> AttributeProto {
        AttributeProto { floats: values.to_vec(), ..named(name, AttributeType::Floats) }
    }

    /// A `STRING` attribute (UTF-8).
    pub fn string(name: &str, value: &str) -> AttributeProto {
        AttributeProto { s: Some(value.as_bytes().to_vec()), ..named(name, AttributeType::String) }
    }
}

/// A tensor value-info: name, element type and shape.
pub fn value_info(name: &str, elem_type: DataType, dims: &[Dim]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(match d {
                Dim::Fixed(v) => dimension::Value::DimValue(*v),
                Dim::Symbolic(s) => dimension::Value::DimParam(s.clone()),
            }),
            ..Default::default()
        })
        .collect();
    ValueInfoProto {
        name: Some(name.to_string()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(elem_type as i32),
                shape: Some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A tensor stored as little-endian `raw_data`.
///
/// Panics if `raw.len()` does not match `dims` and the element size.
pub fn tensor_raw(name: &str, elem_type: DataType, dims: &[i64], raw: Vec<u8>, elem_size: usize) -> TensorProto {
    let count: i64 = dims.iter().product();
    assert_eq!(
        raw.len(),
        count as usize * elem_size,
        "tensor '{name}': {} bytes of data for shape {dims:?}",
        raw.len()
    );
    TensorProto {
        name: Some(name.to_string()),
        dims: dims.to_vec(),
        data_type: Some(elem_type as i32),
        raw_data: Some(raw),
        ..Default::default()
    }
}

/// Builds one ONNX graph and wraps it in a [`ModelProto`].
///
/// Methods take `&mut self`, so calls can be chained (`g.input(..).output(..)`) or issued one
/// by one while the helpers that create tensors ([`op`](Self::op), [`const_f32`](Self::const_f32),
/// ...) return the fresh tensor name.
#[derive(Debug, Clone)]
pub struct GraphBuilder {
    name: String,
    doc: Option<String>,
    opset: i64,
    inputs: Vec<ValueInfoProto>,
    outputs: Vec<ValueInfoProto>,
    initializers: Vec<TensorProto>,
    nodes: Vec<NodeProto>,
    metadata: Vec<StringStringEntryProto>,
    used_names: HashSet<String>,
    counter: usize,
}

impl GraphBuilder {
    /// An empty graph named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        GraphBuilder {
            name: name.into(),
            doc: None,
            opset: OPSET_VERSION,
            inputs: Vec::new(),
            outputs: Vec::new(),
            initializers: Vec::new(),
            nodes: Vec::new(),
            metadata: Vec::new(),
            used_names: HashSet::new(),
            counter: 0,
        }
    }

    /// Sets the default-domain opset version (default [`OPSET_VERSION`]).
    pub fn opset(&mut self, version: i64) -> &mut Self {
        self.opset = version;
        self
    }

    /// Sets the model's `doc_string`.
    pub fn doc(&mut self, doc: impl Into<String>) -> &mut Self {
        self.doc = Some(doc.into());
        self
    }

    /// A tensor name not used so far in this graph, `"{prefix}_{n}"`.
    pub fn fresh(&mut self, prefix: &str) -> String {
        loop {
            let name = format!("{prefix}_{}", self.counter);
            self.counter += 1;
            if self.used_names.insert(name.clone()) {
                return name;
            }
        }
    }

    fn claim(&mut self, name: &str) {
        self.used_names.insert(name.to_string());
    }

    /// Declares a graph input.
    pub fn input(&mut self, name: &str, elem_type: DataType, dims: &[Dim]) -> &mut Self {
        self.claim(name);
        self.inputs.push(value_info(name, elem_type, dims));
        self
    }

    /// Declares a graph output (some node must produce `name`).
    pub fn output(&mut self, name: &str, elem_type: DataType, dims: &[Dim]) -> &mut Self {
        self.outputs.push(value_info(name, elem_type, dims));
        self
    }

    /// Adds a ready-made initializer.
    pub fn initializer(&mut self, tensor: TensorProto) -> &mut Self {
        self.claim(tensor.name());
        self.initializers.push(tensor);
        self
    }

    /// Adds a float32 initializer (`data` in row-major order).
    pub fn initializer_f32(&mut self, name: &str, dims: &[i64], data: &[f32]) -> &mut Self {
        let raw = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.initializer(tensor_raw(name, DataType::Float, dims, raw, 4))
    }

    /// Adds an int64 initializer.
    pub fn initializer_i64(&mut self, name: &str, dims: &[i64], data: &[i64]) -> &mut Self {
        let raw = data.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.initializer(tensor_raw(name, DataType::Int64, dims, raw, 8))
    }

    /// Adds a uint8 initializer.
    pub fn initializer_u8(&mut self, name: &str, dims: &[i64], data: &[u8]) -> &mut Self {
        self.initializer(tensor_raw(name, DataType::Uint8, dims, data.to_vec(), 1))
    }

    /// A float32 initializer with a fresh name; returns the name.
    pub fn const_f32(&mut self, dims: &[i64], data: &[f32]) -> String {
        let name = self.fresh("const_f32");
        self.initializer_f32(&name, dims, data);
        name
    }

    /// An int64 initializer with a fresh name; returns the name.
    pub fn const_i64(&mut self, dims: &[i64], data: &[i64]) -> String {
        let name = self.fresh("const_i64");
        self.initializer_i64(&name, dims, data);
        name
    }

    /// A uint8 initializer with a fresh name; returns the name.
    pub fn const_u8(&mut self, dims: &[i64], data: &[u8]) -> String {
        let name = self.fresh("const_u8");
        self.initializer_u8(&name, dims, data);
        name
    }

    /// A rank-0 float32 initializer; returns its name.
    pub fn scalar_f32(&mut self, value: f32) -> String {
        self.const_f32(&[], &[value])
    }

    /// Adds a node. Use `""` for an omitted optional input.
    pub fn node(
        &mut self,
        op_type: &str,
        inputs: &[&str],
        outputs: &[&str],
        attributes: Vec<AttributeProto>,
    ) -> &mut Self {
        for o in outputs {
            self.claim(o);
        }
        let name = format!("{op_type}_{}", self.nodes.len());
        self.nodes.push(NodeProto {
            name: Some(name),
            op_type: Some(op_type.to_string()),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outputs.iter().map(|s| s.to_string()).collect(),
            attribute: attributes,
            ..Default::default()
        });
        self
    }

    /// Adds a single-output node whose output gets a fresh name; returns that name.
    pub fn op(&mut self, op_type: &str, inputs: &[&str], attributes: Vec<AttributeProto>) -> String {
        let out = self.fresh(&op_type.to_ascii_lowercase());
        self.node(op_type, inputs, &[&out], attributes);
        out
    }

    /// Adds a `metadata_props` entry (later entries with the same key are written too; keep keys
    /// unique).
    pub fn metadata(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.metadata.push(StringStringEntryProto { key: Some(key.into()), value: Some(value.into()) });
        self
    }

    /// Adds several `metadata_props` entries, e.g. `ModelContract::to_metadata()`.
    pub fn metadata_all<K: Into<String>, V: Into<String>>(
        &mut self,
        entries: impl IntoIterator<Item = (K, V)>,
    ) -> &mut Self {
        for (k, v) in entries {
            self.metadata(k, v);
        }
        self
    }

    /// Checks that every node input and graph output is defined before use and that no tensor
    /// is produced twice.
    pub fn validate(&self) -> Result<(), String> {
        let mut defined: HashSet<&str> = HashSet::new();
        for v in self.inputs.iter().map(|v| v.name()).chain(self.initializers.iter().map(|t| t.name())) {
            if !defined.insert(v) {
                return Err(format!("graph '{}': tensor '{v}' is defined twice", self.name));
            }
        }
        for n in &self.nodes {
            for i in &n.input {
                if !i.is_empty() && !defined.contains(i.as_str()) {
                    return Err(format!("graph '{}': node {} uses '{i}' before it is defined", self.name, n.name()));
                }
            }
            for o in &n.output {
                if !defined.insert(o.as_str()) {
                    return Err(format!("graph '{}': node {} redefines '{o}'", self.name, n.name()));
                }
            }
        }
        for o in &self.outputs {
            if !defined.contains(o.name()) {
                return Err(format!("graph '{}': output '{}' is never produced", self.name, o.name()));
            }
        }
        Ok(())
    }

    /// The finished model.
    ///
    /// Panics if [`validate`](Self::validate) fails: a malformed graph is a bug in the code that
    /// built it.
    pub fn build(&self) -> ModelProto {
        if let Err(e) = self.validate() {
            panic!("{e}");
        }
        ModelProto {
            ir_version: Some(IR_VERSION),
            opset_import: vec![OperatorSetIdProto { domain: Some(String::new()), version: Some(self.opset) }],
            producer_name: Some(PRODUCER_NAME.to_string()),
            doc_string: self.doc.clone(),
            graph: Some(GraphProto {
                node: self.nodes.clone(),
                name: Some(self.name.clone()),
                initializer: self.initializers.clone(),
                input: self.inputs.clone(),
                output: self.outputs.clone(),
                ..Default::default()
            }),
            metadata_props: self.metadata.clone(),
            ..Default::default()
        }
    }

    /// The finished model, serialized.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.build().encode_to_vec()
    }
}

/// `ModelProto.metadata_props`' field number in `onnx.proto`.
const METADATA_PROPS_FIELD: u64 = 14;

/// Reads a protobuf varint at `*at`, advancing it.
fn read_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The `metadata_props` of a serialized model, in file order.
pub fn read_metadata(model: &[u8]) -> Result<Vec<(String, String)>, String> {
    Ok(top_level_fields(model)?
        .into_iter()
        .filter_map(|(field, range)| (field == METADATA_PROPS_FIELD).then(|| decode_entry(&model[range])))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .map(|e| (e.key().to_string(), e.value().to_string()))
        .collect())
}

fn decode_entry(bytes: &[u8]) -> Result<StringStringEntryProto, String> {
    let (_, payload) = length_delimited(bytes).ok_or("a metadata entry is cut short")?;
    StringStringEntryProto::decode(payload).map_err(|e| format!("a metadata entry cannot be read: {e}"))
}

/// `(field number, byte range of the whole field)` for each top-level field of a message.
fn top_level_fields(bytes: &[u8]) -> Result<Vec<(u64, std::ops::Range<usize>)>, String> {
    let broken = |at: usize| format!("not an ONNX model: the protobuf is broken at byte {at}");
    let mut fields = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let start = at;
        let tag = read_varint(bytes, &mut at).ok_or_else(|| broken(start))?;
        let len = match tag & 7 {
            0 => read_varint(bytes, &mut at).map(|_| 0),
            1 => Some(8),
            2 => read_varint(bytes, &mut at).and_then(|n| usize::try_from(n).ok()),
            5 => Some(4),
            _ => None,
        }
        .ok_or_else(|| broken(start))?;
        at = at.checked_add(len).filter(|end| *end <= bytes.len()).ok_or_else(|| broken(start))?;
        fields.push((tag >> 3, start..at));
    }
    if fields.is_empty() {
        return Err("not an ONNX model: the file is empty".into());
    }
    Ok(fields)
}

/// The payload of a length-delimited field (tag included in `bytes`).
fn length_delimited(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut at = 0;
    let tag = read_varint(bytes, &mut at).filter(|tag| tag & 7 == 2)?;
    let len = usize::try_from(read_varint(bytes, &mut at)?).ok()?;
    bytes.get(at..at.checked_add(len)?).map(|payload| (tag >> 3, payload))
}

/// `model` with the `metadata_props` entries named in `set` replaced (or added, in that order)
/// and those named in `remove` dropped. Every other byte of the file is kept as it was, so a
/// model written by any tool keeps fields this writer does not know.
pub fn edit_metadata(model: &[u8], set: &[(String, String)], remove: &[String]) -> Result<Vec<u8>, String> {
    let fields = top_level_fields(model)?;
    if !fields.iter().any(|(field, _)| *field == 7) {
        return Err("not an ONNX model: it has no graph".into());
    }
    let mut out = Vec::with_capacity(model.len() + 64);
    for (field, range) in fields {
        if field == METADATA_PROPS_FIELD {
            let entry = decode_entry(&model[range.clone()])?;
            let key = entry.key();
            if set.iter().any(|(k, _)| k == key) || remove.iter().any(|k| k == key) {
                continue;
            }
        }
        out.extend_from_slice(&model[range]);
    }
    let added = ModelProto {
        metadata_props: set
            .iter()
            .map(|(k, v)| StringStringEntryProto { key: Some(k.clone()), value: Some(v.clone()) })
            .collect(),
        ..Default::default()
    };
    added.encode(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_edits_replace_add_and_remove_and_keep_everything_else() {
        let mut g = GraphBuilder::new("t");
        g.input("x", DataType::Float, &[Dim::Fixed(1)]);
        g.node("Identity", &["x"], &["y"], vec![]);
        g.output("y", DataType::Float, &[Dim::Fixed(1)]);
        g.metadata("a", "1").metadata("b", "2");
        let bytes = g.to_bytes();
        let edited =
            edit_metadata(&bytes, &[("b".into(), "3".into()), ("c".into(), "4".into())], &["a".into()]).unwrap();
        let pairs = |v: &[(&str, &str)]| v.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
        assert_eq!(read_metadata(&edited).unwrap(), pairs(&[("b", "3"), ("c", "4")]));
        let (mut before, mut after) =
            (ModelProto::decode(&bytes[..]).unwrap(), ModelProto::decode(&edited[..]).unwrap());
        before.metadata_props.clear();
        after.metadata_props.clear();
        assert_eq!(before, after, "only the metadata changed");
        assert_eq!(edit_metadata(&edited, &[], &[]).unwrap(), edited, "no edit, same bytes");
    }

    #[test]
    fn metadata_edits_refuse_what_is_not_a_model() {
        assert!(edit_metadata(b"", &[], &[]).unwrap_err().contains("empty"));
        assert!(edit_metadata(b"\x0a\xff", &[], &[]).unwrap_err().contains("broken at byte 0"));
        assert!(read_metadata(b"\x0f").unwrap_err().contains("broken"));
        let no_graph = ModelProto { ir_version: Some(8), ..Default::default() }.encode_to_vec();
        assert!(edit_metadata(&no_graph, &[], &[]).unwrap_err().contains("no graph"));
    }

    #[test]
    fn writes_ir8_opset17_and_round_trips() {
        let mut g = GraphBuilder::new("t");
        g.input("x", DataType::Float, &[Dim::Fixed(1), Dim::sym("h")]);
        let two = g.scalar_f32(2.0);
        let y = g.op("Mul", &["x", &two], vec![]);
        g.node("Identity", &[&y], &["y"], vec![attr::int("unused", 1)]);
        g.output("y", DataType::Float, &[1.into(), "h".into()]);
        g.metadata("k", "v");
        let bytes = g.to_bytes();
        let m = ModelProto::decode(bytes.as_slice()).unwrap();
        assert_eq!(m.ir_version, Some(8));
        assert_eq!(m.opset_import[0].version, Some(17));
        assert_eq!(m.metadata_props[0].key(), "k");
        let graph = m.graph.unwrap();
        assert_eq!(graph.node.len(), 2);
        assert_eq!(graph.initializer[0].raw_data(), 2.0f32.to_le_bytes());
        assert_eq!(bytes, g.to_bytes(), "deterministic");
    }

    #[test]
    fn fresh_names_skip_declared_ones() {
        let mut g = GraphBuilder::new("t");
        g.input("mul_0", DataType::Float, &[]);
        let a = g.fresh("mul");
        let b = g.fresh("mul");
        assert!(a != "mul_0" && a != b);
    }

    #[test]
    fn validate_reports_undefined_inputs() {
        let mut g = GraphBuilder::new("t");
        g.node("Relu", &["nope"], &["y"], vec![]);
        assert!(g.validate().unwrap_err().contains("'nope'"));
        let mut g = GraphBuilder::new("t");
        g.input("x", DataType::Float, &[]);
        g.output("y", DataType::Float, &[]);
        assert!(g.validate().unwrap_err().contains("never produced"));
    }
}
