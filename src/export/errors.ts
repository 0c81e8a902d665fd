// The exporter's one user error: a metric definition or config that cannot work with the
// object or map it names. The message names the metric (and field/label) and what to write.
import { TsbpfError } from "../errors.js";

export class ExportError extends TsbpfError {
  override readonly name = "ExportError";
}
