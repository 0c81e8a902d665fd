{
  # tsbpf_portable=1 (scripts/prebuilds.sh, for the binaries shipped in prebuilds/): the addon
  # needs no glibc newer than 2.28 (Node 20's floor) and the client is linked statically, so it
  # runs on any Linux of its architecture.
  "variables": { "tsbpf_portable%": 0 },
  "targets": [
    {
      "target_name": "tsbpf",
      "sources": ["native/tsbpf.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [["tsbpf_portable==1", { "defines": ["TSBPF_NO_STRERRORNAME_NP"] }]]
    },
    {
      "target_name": "tsbpf-client",
      "type": "executable",
      "sources": ["native/tsbpf-client.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"],
      "conditions": [["tsbpf_portable==1", { "ldflags": ["-static"] }]]
    }
  ]
}
