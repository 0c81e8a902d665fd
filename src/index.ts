// tsbpf — the user-space library: load eBPF objects (ours or clang/libbpf-built), attach them,
// read their maps and stream their events.
export { Loader, Loaded, type LoaderConfig } from "./load/loader.js";
export { Collection, LoadError, mapKernelName, type CollectionOptions } from "./load/collection.js";
export { Program, ProgramError, type TestRunOptions } from "./load/program.js";
export { LogReader, setLogLevel, logLevel, logDrops, type LogLevelSetting } from "./load/logs.js";
export {
  logLineText,
  decodeLogRecord,
  formatLogArg,
  type LogLine,
  type LogLevel,
  type LogFormat,
} from "./obj/log-section.js";
export {
  BpfMap,
  PerCpuMap,
  MapError,
  type BpfMapSpec,
  type MapCodecs,
  type UpdateMode,
} from "./map/map.js";
export type { Codec } from "./types/codec.js";
export { MapData, type MapDataRecord } from "./map/map-data.js";
export * from "./reader/index.js";
export * from "./link/index.js";
export { VerifierError, type SourceLine } from "./load/verifier.js";
export { CoreRelocationError } from "./obj/core.js";
export { SysError, Errno } from "./sys/errors.js";
export { BpffsError } from "./sys/bpffs.js";
export { TracefsError } from "./sys/tracefs.js";
export { CpuListError } from "./sys/cpus.js";
export { ObjectError } from "./obj/errors.js";
export { KconfigError } from "./load/kconfig.js";
export { KernelBtfError } from "./load/kernel-btf.js";
export { btfToTs, BtfTypeNotFoundError, type BtfToTsOptions } from "./obj/btf-to-ts.js";
export { LazyBtf } from "./obj/btf.js";
export { AddonError } from "./sys/addon-error.js";
export { TsbpfError } from "./errors.js";
export {
  parseObject,
  type BpfObject,
  type MapSpec,
  type ProgramSpec,
  type Relocation,
} from "./obj/object.js";
export { parseSectionName, type ProgramSection, type ProgramKind } from "./obj/section.js";
export { disassemble } from "./obj/disasm.js";
export { MapType, ProgType, AttachType, XdpFlags } from "./obj/consts.js";
// Every program, map and link on the system (`tsbpf prog|map|link|net`), values through BTF.
export {
  InspectError,
  listPrograms,
  listMaps,
  listLinks,
  showProgram,
  showLink,
  detachLink,
  openMap,
  parseRef,
  kernelBtf,
  type ObjectRef,
  type OpenMap,
  type ProgramSummary,
  type MapSummary,
  type LinkSummary,
} from "./inspect/system.js";
export { mapEntries, mapGet, mapUpdate, mapDelete, type MapEntry } from "./inspect/map-entries.js";
export { netAttachments, type InterfaceAttachments } from "./inspect/net.js";
export {
  BtfValueError,
  decodeBtfValue,
  encodeBtfValue,
  btfValueJson,
  btfValueText,
  type BtfValue,
} from "./obj/btf-value.js";
