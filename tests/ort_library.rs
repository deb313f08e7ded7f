//! A missing or too-old ONNX Runtime is an element error that says how to install it, never a
//! plugin that fails to load. These tests live in their own binary (process) because a
//! process keeps the first ONNX Runtime it loads: none is ever loaded successfully here.

mod common;

use std::process::Command;

fn start_error(props: &str) -> String {
    common::run_pipeline(&format!("videotestsrc num-buffers=1 ! animestyle {props} ! fakesink"))
        .expect_err("the element must not start")
}

#[test]
fn plugin_loads_and_element_exists_without_onnx_runtime() {
    common::init();
    let factory = gst::ElementFactory::find("animestyle").expect("registered without loading ONNX Runtime");
    assert_eq!(factory.metadata(gst::ELEMENT_METADATA_KLASS), Some("Filter/Effect/Video"));
}

#[test]
fn missing_library_says_how_to_install() {
    let e = start_error("ort-library=/nonexistent/libonnxruntime.so.1.31.1");
    assert!(e.contains("'/nonexistent/libonnxruntime.so.1.31.1' (the ort-library property) does not exist"), "{e}");
    assert!(e.contains("pip install onnxruntime"), "{e}");
    assert!(e.contains("ORT_DYLIB_PATH"), "{e}");
}

#[test]
fn a_file_that_is_not_a_library_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("libonnxruntime.so.1.31.1");
    std::fs::write(&path, b"not a shared object").unwrap();
    let e = start_error(&format!("ort-library={}", path.display()));
    assert!(e.contains("could not load the ONNX Runtime library"), "{e}");
    assert!(e.contains("pip install onnxruntime"), "{e}");
}

/// Builds a stand-in `libonnxruntime.so` that reports version 1.10.0 (older than the 1.17 this
/// build needs), the way an old system package would.
fn old_runtime(dir: &std::path::Path) -> std::path::PathBuf {
    let src = dir.join("old_ort.c");
    std::fs::write(
        &src,
        r#"
        typedef struct { const void* (*GetApi)(unsigned); const char* (*GetVersionString)(void); } OrtApiBase;
        static const void* get_api(unsigned v) { (void)v; return 0; }
        static const char* version(void) { return "1.10.0"; }
        static const OrtApiBase base = { get_api, version };
        const OrtApiBase* OrtGetApiBase(void) { return &base; }
        "#,
    )
    .unwrap();
    let lib = dir.join("libonnxruntime.so.1.10.0");
    let status =
        Command::new("cc").args(["-shared", "-fPIC", "-o"]).arg(&lib).arg(&src).status().expect("a C compiler (cc)");
    assert!(status.success());
    lib
}

#[test]
fn too_old_library_names_the_version_needed() {
    let dir = tempfile::tempdir().unwrap();
    let lib = old_runtime(dir.path());
    let e = start_error(&format!("ort-library={}", lib.display()));
    assert!(e.contains("is too old: animestyle needs ONNX Runtime 1.17 or newer"), "{e}");
    assert!(e.contains("1.10.0"), "{e}");
    assert!(e.contains("pip install onnxruntime"), "{e}");
}
