//! Kernels compiled twice: for baseline x86-64 (what the plugin is built for) and for
//! AVX2+FMA, picked at run time. The hot per-pixel loops of the frame path use these.

/// Runs `$generic` compiled for AVX2+FMA when the CPU has them (the plugin is built for
/// baseline x86-64), else as built.
macro_rules! with_avx2 {
    ($avx2:ident, $generic:ident, ($($arg:ident: $ty:ty),*)) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn $avx2($($arg: $ty),*) {
            $generic($($arg),*)
        }
    };
}

/// Calls the AVX2 build of a kernel when available, else the baseline one.
macro_rules! dispatch {
    ($avx2:ident, $generic:ident, ($($arg:expr),*)) => {{
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            // SAFETY: the CPU supports the features the function is compiled for.
            return unsafe { $avx2($($arg),*) };
        }
        $generic($($arg),*)
    }};
}
