{
  "targets": [
    {
      "target_name": "mimmx_native",
      "sources": [
        "native/src/addon.cc",
        "native/src/tensor.cc",
        "native/src/creation.cc",
        "native/src/math.cc",
        "native/src/shape.cc",
        "native/src/nn.cc",
        "native/src/autograd.cc",
        "native/src/critic.cc",
        "native/src/allocator.cc",
        "native/src/dist.cc",
        "native/src/dist_ops.cc"
      ],
      "include_dirs": [
        "<!@(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node native/find-libtorch.cjs include)",
        "<!@(node native/find-libtorch.cjs dist-include)"
      ],
      "libraries": [
        "-L<!(node native/find-libtorch.cjs libdir)",
        "-Wl,-rpath,<!(node native/find-libtorch.cjs libdir)",
        "<!@(node native/find-libtorch.cjs libs)"
      ],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED", "<!@(node native/find-libtorch.cjs abi-define)", "<!@(node native/find-libtorch.cjs dist-defines)"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++14"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"]
    },
    {
      "target_name": "mimmx_image",
      "sources": ["native/image/image.cc"],
      "include_dirs": ["<!@(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++14"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O3", "-fno-fast-math", "-ffp-contract=off"]
    }
  ]
}
