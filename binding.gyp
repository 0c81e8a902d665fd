{
  "targets": [
    {
      "target_name": "tsbpf",
      "sources": ["native/tsbpf.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "defines": ["NAPI_VERSION=8"]
    },
    {
      "target_name": "tsbpf-client",
      "type": "executable",
      "sources": ["native/tsbpf-client.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"]
    }
  ]
}
