{
  "variables": {
    "llm2vec_x86": "<!(node -p \"['x64','ia32'].includes(process.arch) ? 1 : 0\")"
  },
  "target_defaults": {
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native/src"],
    "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
    "cflags!": ["-O2", "-O0", "-fno-tree-vectorize"],
    "cflags_cc!": ["-O2", "-O0", "-std=gnu++17", "-std=gnu++20"],
    "cflags": ["-O3", "-fPIC"],
    "cflags_cc": ["-O3", "-std=c++17", "-fno-exceptions", "-fPIC"],
    "xcode_settings": {
      "GCC_OPTIMIZATION_LEVEL": "3",
      "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
      "OTHER_CPLUSPLUSFLAGS": ["-fno-exceptions"]
    }
  },
  "targets": [
    {
      "target_name": "llm2vec_avx2",
      "type": "static_library",
      "sources": ["native/src/gemm_avx2.cc", "native/src/kernels_avx2.cc", "native/src/quant_avx2.cc"],
      "conditions": [
        ["llm2vec_x86==1", {
          "cflags_cc": ["-mavx2", "-mfma", "-mf16c"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-mfma", "-mf16c"] }
        }]
      ]
    },
    {
      "target_name": "llm2vec_avx512",
      "type": "static_library",
      "sources": ["native/src/gemm_avx512.cc", "native/src/kernels_avx512.cc"],
      "conditions": [
        ["llm2vec_x86==1", {
          "cflags_cc": ["-mavx512f", "-mavx2", "-mfma", "-mf16c"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx512f", "-mavx2", "-mfma", "-mf16c"] }
        }]
      ]
    },
    {
      "target_name": "llm2vec_avx512bf16",
      "type": "static_library",
      "sources": ["native/src/gemm_avx512bf16.cc"],
      "conditions": [
        ["llm2vec_x86==1", {
          "cflags_cc": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512bf16", "-mavx2", "-mfma", "-mf16c"],
          "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512bf16", "-mavx2", "-mfma", "-mf16c"] }
        }]
      ]
    },
    {
      "target_name": "llm2vec_native",
      "dependencies": ["llm2vec_avx2", "llm2vec_avx512", "llm2vec_avx512bf16"],
      "sources": [
        "native/src/addon.cc",
        "native/src/addon_gemm.cc",
        "native/src/addon_process.cc",
        "native/src/addon_map.cc",
        "native/src/isa.cc",
        "native/src/thread_pool.cc",
        "native/src/gemm.cc",
        "native/src/gemm_packed.cc",
        "native/src/quant.cc",
        "native/src/kernels_generic.cc"
      ],
      "libraries": ["-pthread"]
    }
  ]
}
