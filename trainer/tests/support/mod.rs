//! Helpers shared by the trainer's integration tests.
// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

/// A tiny generator and short runs: these tests check behaviour, not quality.
pub const TINY: [&str; 15] = [
    "--c1",
    "4",
    "--c2",
    "8",
    "--c3",
    "8",
    "--blocks",
    "1",
    "--crop",
    "32",
    "--batch",
    "2",
    "--held-out",
    "1",
    "--quiet",
];

/// Writes a safetensors file by hand (8-byte LE header length, JSON header, raw f32 LE data).
pub fn write_safetensors(path: &std::path::Path, tensors: &[(String, Vec<usize>, Vec<f32>)]) {
    let mut header = String::from("{");
    let mut offset = 0usize;
    for (i, (name, shape, data)) in tensors.iter().enumerate() {
        let end = offset + data.len() * 4;
        if i > 0 {
            header.push(',');
        }
        header.push_str(&format!(
            "\"{name}\":{{\"dtype\":\"F32\",\"shape\":{shape:?},\"data_offsets\":[{offset},{end}]}}"
        ));
        offset = end;
    }
    header.push('}');
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    for (_, _, data) in tensors {
        for v in data {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
    }
    std::fs::write(path, bytes).unwrap();
}
